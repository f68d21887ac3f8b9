// A tiny stdio MCP server on @modelcontextprotocol/sdk, standing in for
// `cca mcp --agent <id>` in tests: Claude Code starts it from the agent's
// --mcp-config exactly as it would start the real one.
//   echo {text}  -> "echo: <text>"
//   whoami       -> the argv and CCA_AGENT_ID it was started with (JSON)
// Every call is appended as a JSON line to $MCP_ECHO_LOG when set.
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { appendFileSync } from "node:fs"

const server = new Server({ name: "echo", version: "1.0.0" }, { capabilities: { tools: {} } })

server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [
    { name: "echo", description: "Echo the text back", inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] } },
    { name: "whoami", description: "How this server was started", inputSchema: { type: "object", properties: {} } },
  ],
}))

server.setRequestHandler(CallToolRequestSchema, async (req) => {
  const log = process.env.MCP_ECHO_LOG
  if (log) appendFileSync(log, `${JSON.stringify({ tool: req.params.name, arguments: req.params.arguments })}\n`)
  if (req.params.name === "echo") return { content: [{ type: "text", text: `echo: ${String(req.params.arguments?.text ?? "")}` }] }
  if (req.params.name === "whoami") return { content: [{ type: "text", text: JSON.stringify({ argv: process.argv.slice(2), agent: process.env.CCA_AGENT_ID ?? null }) }] }
  return { content: [{ type: "text", text: `unknown tool ${req.params.name}` }], isError: true }
})

await server.connect(new StdioServerTransport())
