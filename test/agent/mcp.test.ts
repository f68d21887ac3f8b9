import { afterEach, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { startAgent } from "../../src/agent/agent"
import { ccaMcpServer, mcpConfig, selfCommand } from "../../src/agent/mcp-config"
import type { AgentEvent } from "../../src/agent/types"
import { CLAUDE, claudeEnv, SONNET } from "../support/claude"
import { startModelServer } from "../support/model-server"
import { tmpdir } from "../support/tmpdir"

// The agent's --mcp-config starts `<command> mcp --agent <id>`; here the
// command is a tiny stdio MCP server, and the real claude calls its tool.

const ECHO_SERVER = join(import.meta.dir, "..", "support", "mcp-echo-server.ts")

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

test("ccaMcpServer runs this program as `mcp --agent <id>`", () => {
  expect(ccaMcpServer("a7", ["/usr/local/bin/cca"])).toEqual({ command: "/usr/local/bin/cca", args: ["mcp", "--agent", "a7"] })
  expect(ccaMcpServer("a7", ["/usr/bin/bun", "/src/main.ts"]).args).toEqual(["/src/main.ts", "mcp", "--agent", "a7"])
  // From source (bun test), this program is bun plus the entry script.
  expect(selfCommand()[0]).toBe(process.execPath)
  expect(mcpConfig({ cca: ccaMcpServer("a7", ["/x/cca"]) })).toEqual({ mcpServers: { cca: { type: "stdio", command: "/x/cca", args: ["mcp", "--agent", "a7"], env: {} } } })
})

test("the real claude calls a tool of the agent's MCP server and the result returns to the model", async () => {
  const model = await startModelServer([
    { match: { lastUserText: "echo ping", toolResult: false }, reply: { content: [{ type: "tool_use", name: "mcp__cca__echo", input: { text: "ping" } }] } },
    { match: { lastUserText: "who are you", toolResult: false }, reply: { content: [{ type: "tool_use", name: "mcp__cca__whoami", input: {} }] } },
    { match: { toolResult: { name: /^mcp__cca__/ } }, reply: (c) => ({ content: `tool answered: ${c.toolResults[0]!.text.split("\n")[0]}` }) },
  ])
  const tmp = await tmpdir({ prefix: "agent-mcp-" })
  cleanup.push(() => tmp[Symbol.asyncDispose](), () => model.close())
  // A project MCP server that --strict-mcp-config must keep out.
  await Bun.write(join(tmp.path, ".mcp.json"), JSON.stringify({ mcpServers: { intruder: { type: "stdio", command: process.execPath, args: [ECHO_SERVER] } } }))
  const log = join(tmp.path, "mcp-calls.jsonl")
  const agent = await startAgent({
    id: "mcp-agent-1",
    role: "coordinator",
    cwd: tmp.path,
    stateDir: join(tmp.path, ".state"),
    claudePath: CLAUDE,
    model: SONNET,
    env: { ...claudeEnv(model), MCP_ECHO_LOG: log },
    mcpServers: { cca: ccaMcpServer("mcp-agent-1", [process.execPath, ECHO_SERVER]) },
  })
  cleanup.push(() => agent.stop())
  const inits: AgentEvent[] = []
  agent.subscribe((e) => e.type === "init" && inits.push(e))

  const echoed = await agent.send("echo ping").done
  expect(echoed.text).toBe("tool answered: echo: ping")
  expect(echoed.permissionDenials).toEqual([]) // the agent's own server is allowed
  const followUp = model.turns().find((t) => t.conversation!.toolResults.length > 0)!
  expect(followUp.conversation!.toolResults).toHaveLength(1)
  expect(followUp.conversation!.toolResults[0]).toMatchObject({ name: "mcp__cca__echo", isError: false })
  expect(followUp.conversation!.toolResults[0]!.text).toStartWith("echo: ping")
  expect(readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l))).toEqual([{ tool: "echo", arguments: { text: "ping" } }])

  const who = await agent.send("who are you").done
  const started = JSON.parse(who.text.replace("tool answered: ", ""))
  expect(started).toEqual({ argv: ["mcp", "--agent", "mcp-agent-1"], agent: "mcp-agent-1" })

  expect(inits[0]).toMatchObject({ type: "init", mcpServers: [{ name: "cca", status: "connected" }] })
  expect(agent.argv).toContain("--strict-mcp-config")
})
