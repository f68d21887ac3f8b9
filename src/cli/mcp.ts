import { command, lazy } from "./common"
import { UsageError } from "../errors"
import { createLogger, setLogKind } from "../log"

// `cca mcp [--agent ID]`: the MCP server over stdio that Claude Code starts
// (the plugin's .mcp.json, `cca mcp install`, or an agent's --mcp-config).
// stdout carries the protocol and nothing else; logs go to stderr (warnings)
// and the log file. The server ends when the client closes stdin or on
// SIGTERM/SIGINT. The SDK is imported here, so no other command loads it.

function seconds(value: unknown): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--timeout must be a number of seconds above 0, not ${String(value)}`, { hint: "cca mcp --timeout 10" })
  return n
}

const mcp = command({
  meta: { name: "mcp", description: "MCP server over stdio exposing the cca_* tools to Claude Code (install: `cca mcp install`)" },
  args: {
    agent: { type: "string", description: "Serve as this pool agent's bridge: adds cca_delegate and cca_report_progress over ACP" },
    role: { type: "string", description: "With --agent: the agent's role, as ACP shows it (default agent)" },
    timeout: { type: "string", description: "Seconds the daemon may take to answer before a tool fails", default: "10" },
  },
  async run(_ctx, args) {
    if (args._[0] === "install") return // citty runs the parent after a subcommand
    if (args.role && !args.agent) throw new UsageError("--role only applies with --agent", { hint: "cca mcp --agent ID --role ROLE" })
    const timeoutMs = seconds(args.timeout) * 1000
    setLogKind("mcp") // one mcp.log for every MCP server (Claude Code's, each pool agent's)
    const log = createLogger("mcp", { verbose: Boolean(args.verbose) })
    const { createCcaServer, serveStdio } = await import("../mcp/server")
    const agent = args.agent ? { id: String(args.agent), role: String(args.role || "agent") } : undefined
    const server = createCcaServer({ log, cwd: process.cwd(), agent, timeoutMs })
    log.info(`mcp server starting${agent ? ` for agent ${agent.id}` : ""} (pid ${process.pid})`)
    if (process.stdin.isTTY) console.error("cca mcp speaks MCP (JSON-RPC) on stdin/stdout for Claude Code, which starts it: see `cca plugin install` or `cca mcp install`. Ctrl-D ends it.")
    await serveStdio(server, timeoutMs)
    log.info("mcp server stopped")
  },
})

export default { ...mcp, subCommands: { install: lazy(() => import("./mcp-install")) } }
