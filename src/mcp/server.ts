import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import * as z from "zod"
import type { Logger } from "../log"
import { VERSION } from "../version"
import { AgentLink } from "./agent-link"
import { daemonLink, type DaemonLinkOptions } from "./daemon"
import { answerResult, errorResult, type Call, type ToolContext, type ToolDef } from "./tool"
import { agentModeTools } from "./tools/agent"
import { agentTools } from "./tools/agents"
import { codeTools } from "./tools/code"
import { memoryTools } from "./tools/memory"
import { rlTools } from "./tools/rl"
import { taskTools } from "./tools/tasks"
import { tokenTools } from "./tools/tokens"

// The cca MCP server: every tool group registered on one McpServer (from
// @modelcontextprotocol/sdk, which validates arguments against the zod
// shapes and lists them as JSON Schema). `--agent ID` mode is the same
// server with an ACP link: it adds the agent tools, and the shared tools
// that have an agent's way of doing things (broadcast) use it.

export type CcaServerOptions = {
  log: Logger
  cwd: string
  /** Set for `cca mcp --agent ID`. */
  agent?: { id: string; role: string }
  /** How long a daemon may take to answer (event streams: to start). */
  timeoutMs: number
  connect?: DaemonLinkOptions["connect"]
}

export type CcaServer = { mcp: McpServer; tools: ToolDef[]; close(): Promise<void> }

const INSTRUCTIONS = `cca runs a pool of Claude Code agents behind a daemon. Start work with cca_task (wait=true to get the result), follow it with cca_status, see who is working with cca_agents and cca_workloads. If a tool says no daemon is answering, the user starts one with \`cca daemon\`.`
const AGENT_INSTRUCTIONS = ` You are one of the pool's agents: hand self-contained subtasks to other agents with cca_delegate and report how far you are with cca_report_progress. cca_memory finds strategies and pitfalls from earlier similar tasks.`

export function toolsOf(ctx: ToolContext): ToolDef[] {
  return [...taskTools(ctx), ...agentTools(ctx), ...memoryTools(ctx), ...rlTools(ctx), ...tokenTools(ctx), ...codeTools(ctx), ...agentModeTools(ctx)]
}

export function createCcaServer(opts: CcaServerOptions): CcaServer {
  const { log } = opts
  const daemon = daemonLink({ timeoutMs: opts.timeoutMs, connect: opts.connect })
  const agent = opts.agent && new AgentLink({ agentId: opts.agent.id, role: opts.agent.role, daemon, log, timeoutMs: opts.timeoutMs })
  const tools = toolsOf({ daemon, cwd: opts.cwd, log, agent })
  const mcp = new McpServer(
    { name: "cca", title: "cca agent pool", version: VERSION },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS + (agent ? AGENT_INSTRUCTIONS : "") },
  )
  for (const tool of tools) {
    mcp.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        // Loose: the daemon's answers carry more fields than a client may rely on, and a client validates with JSON Schema.
        outputSchema: tool.output && z.object({ summary: z.string(), ...tool.output }).loose(),
        annotations: { title: tool.title, readOnlyHint: tool.readOnly ?? false, openWorldHint: false },
      },
      async (args: Record<string, unknown>, extra) => {
        const t0 = performance.now()
        const token = extra._meta?.progressToken
        let step = 0
        const call: Call = {
          signal: extra.signal,
          progress(message) {
            if (token === undefined || extra.signal.aborted) return
            extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: ++step, message } }).catch(() => {})
          },
        }
        try {
          const result = answerResult(await tool.run(args, call))
          log.info(`${tool.name} ok in ${Math.round(performance.now() - t0)} ms`)
          return result
        } catch (e) {
          log.info(`${tool.name} failed in ${Math.round(performance.now() - t0)} ms: ${(e as Error).message}`)
          return errorResult(tool.name, e, log)
        }
      },
    )
  }
  return {
    mcp,
    tools,
    async close() {
      await agent?.close()
      await mcp.close()
    },
  }
}

/**
 * Requests the client sent and the server has not answered yet, seen on the
 * transport itself: a request counts from the moment it arrives (before any
 * handler runs) until its response is written, or until it is cancelled.
 */
function trackInflight(transport: Transport): { idle(maxMs: number): Promise<void> } {
  const open = new Set<string | number>()
  let wake: (() => void) | undefined
  const settle = (id: string | number) => {
    open.delete(id)
    if (open.size === 0) wake?.()
  }
  const receive = transport.onmessage
  transport.onmessage = (message, extra) => {
    if ("method" in message && "id" in message) open.add(message.id)
    if ("method" in message && message.method === "notifications/cancelled") {
      const id = (message.params as { requestId?: string | number } | undefined)?.requestId
      if (id !== undefined) settle(id)
    }
    receive?.(message, extra)
  }
  const send = transport.send.bind(transport)
  transport.send = async (message, options) => {
    await send(message, options)
    if (!("method" in message) && "id" in message && message.id !== undefined) settle(message.id)
  }
  return {
    idle(maxMs) {
      if (open.size === 0) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, maxMs)
        wake = () => (clearTimeout(timer), resolve())
      })
    },
  }
}

/**
 * Serve over stdin/stdout until the client goes away. The SDK's transport
 * does not watch for the end of stdin; a client that closed it may still
 * read, so the requests in flight are answered first (for up to `drainMs`).
 * SIGTERM and SIGINT end it at once.
 */
export async function serveStdio(server: CcaServer, drainMs: number): Promise<void> {
  const transport = new StdioServerTransport()
  const closed = new Promise<void>((resolve) => {
    server.mcp.server.onclose = () => resolve()
  })
  await server.mcp.connect(transport)
  const inflight = trackInflight(transport)
  const stop = () => void transport.close()
  process.stdin.once("end", () => void inflight.idle(drainMs).then(stop))
  process.once("SIGTERM", stop)
  process.once("SIGINT", stop)
  await closed
  await server.close()
}
