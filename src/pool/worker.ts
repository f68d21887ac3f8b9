import { hostname } from "node:os"
import { AcpClient, type ReconnectOptions } from "../acp/client"
import { AcpConnectionClosedError, AcpTimeoutError, RpcError } from "../acp/errors"
import type { TaskAssignParams, TaskAssignResult, TaskOutcome } from "../acp/protocol"
import { turnFailure } from "../agent/stream-json"
import type { TurnResult } from "../agent/types"
import { AgentCrashedError, AgentStoppedError } from "../agent/errors"
import { isAppError } from "../errors"
import type { Logger } from "../log"
import { VERSION } from "../version"
import type { PoolOptions } from "./options"
import { createPool, type Pool } from "./pool"

// `cca worker`: agents on this machine serving a daemon elsewhere. The same
// pool as the daemon's (spawn, supervise, run one prompt at a time), without
// the SQL store; each agent registers over ACP under its own id, accepts
// `task_assign` when idle, runs the prompt with pool.run and answers
// `task_result` (output, tokens, cost, duration). `task.cancel` aborts the
// run. A dropped connection reconnects by itself (AcpClient) and declares the
// tasks still running; results that could not be sent go out once it is back.
//
// Several daemon URLs (the daemons of one cluster, on one database): each
// agent connects to the first that answers and, when its daemon dies, fails
// over to the next. It registers there with the tasks it still runs (and
// finished but could not report); that daemon takes them over (handover:
// the task never goes back to the queue, so it never runs twice) and then
// gets the results. A result the daemon could not record (its database was
// restarting: a 503) or got no answer for is kept and sent again.

export type WorkerOptions = {
  /** The daemon's ACP URL, e.g. ws://host:9100/, or the URLs of several daemons of one cluster (failover, in order). */
  acpUrl: string | readonly string[]
  apiKey: string
  /** The daemon's HTTP URL, for the agents' own cca tools (optional: delegation goes over ACP). */
  daemonUrl?: string
  role: string
  count: number
  /** Agent ids are `<prefix>-<n>`. Default `<host>-<role>-<random>`. */
  idPrefix?: string
  pool: PoolOptions
  log: Logger
  reconnect?: ReconnectOptions
  requestTimeoutMs?: number
  /** How long before a result that was not recorded is sent again. Default 2 s. */
  resendMs?: number
  /** Hears every attempt to report an outcome: recorded, kept to send again, or dropped (refused for good). */
  onReport?: (r: { agentId: string; taskId: string; outcome: "recorded" | "kept" | "dropped"; error?: string }) => void
}

export type RunningWorker = {
  pool: Pool
  agents: string[]
  clients: Map<string, AcpClient>
  stop(): Promise<void>
}

type Run = { abort: AbortController }

/** The task's outcome as ACP carries it; cache tokens and the session id ride in `data`. */
export function turnOutcome(taskId: string, r: TurnResult): TaskOutcome {
  const failure = r.ok || r.interrupted ? undefined : turnFailure(r)
  return {
    taskId,
    status: r.ok ? "completed" : r.interrupted ? "cancelled" : "failed",
    output: r.text,
    error: r.ok ? undefined : (failure?.message ?? `the turn ended with ${r.subtype}`),
    tokens: { input: r.usage.inputTokens, output: r.usage.outputTokens },
    costUsd: r.costUsd,
    durationMs: r.durationMs,
    data: {
      ...(failure ? { errorCode: failure.code, errorDetails: failure.details } : {}),
      sessionId: r.sessionId,
      subtype: r.subtype,
      numTurns: r.numTurns ?? null,
      usage: { inputTokens: r.usage.inputTokens, outputTokens: r.usage.outputTokens, cacheReadTokens: r.usage.cacheReadInputTokens, cacheCreationTokens: r.usage.cacheCreationInputTokens },
    },
  }
}

/** The daemon did not record it, but may: the link dropped, no answer came, or its database was away (503). */
function retryable(e: unknown): boolean {
  if (e instanceof AcpConnectionClosedError || e instanceof AcpTimeoutError) return true
  return e instanceof RpcError && typeof e.data === "object" && e.data !== null && (e.data as { code?: unknown }).code === "unavailable"
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "worker"

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const host = hostname()
  const prefix = o.idPrefix ?? `${slug(host)}-${o.role}-${crypto.randomUUID().slice(0, 6)}`
  const urls = typeof o.acpUrl === "string" ? [o.acpUrl] : [...o.acpUrl]
  // The agents' own cca tools (their MCP bridge) reach the first daemon; any daemon of the cluster serves them alike.
  const pool = createPool({ ...o.pool, link: () => ({ daemonUrl: o.daemonUrl, acpUrl: urls[0], apiKey: o.apiKey }), hookUrl: undefined })
  const clients = new Map<string, AcpClient>()
  const runs = new Map<string, Run>()
  /** Outcomes the daemon has not acknowledged yet, per agent. */
  const unsent = new Map<string, Map<string, TaskOutcome>>()

  async function report(agentId: string, outcome: TaskOutcome): Promise<void> {
    const client = clients.get(agentId)
    const pending = unsent.get(agentId) ?? new Map<string, TaskOutcome>()
    unsent.set(agentId, pending)
    pending.set(outcome.taskId, outcome)
    if (!client || client.state !== "ready" || stopping) return void o.onReport?.({ agentId, taskId: outcome.taskId, outcome: "kept" }) // sent when it registers again
    try {
      await client.result(outcome)
      pending.delete(outcome.taskId)
      o.onReport?.({ agentId, taskId: outcome.taskId, outcome: "recorded" })
      o.log.info(`worker: task ${outcome.taskId} on ${agentId}: ${outcome.status} reported to ${client.url}`)
    } catch (e) {
      const again = retryable(e)
      if (!again) pending.delete(outcome.taskId) // refused for good (e.g. invalid): nothing to retry
      o.onReport?.({ agentId, taskId: outcome.taskId, outcome: again ? "kept" : "dropped", error: (e as Error).message })
      o.log.warn(`worker: reporting task ${outcome.taskId} of ${agentId} failed: ${(e as Error).message}${again ? " (kept; sent again)" : ""}`)
      if (again && !(e instanceof AcpConnectionClosedError)) resendLater(agentId)
    }
  }

  /** Sent again after resendMs (a reconnect sends everything unsent anyway). */
  const resend = new Map<string, ReturnType<typeof setTimeout>>()
  function resendLater(agentId: string): void {
    if (resend.has(agentId) || stopping) return
    const t = setTimeout(() => {
      resend.delete(agentId)
      for (const outcome of [...(unsent.get(agentId)?.values() ?? [])]) void report(agentId, outcome)
    }, o.resendMs ?? 2000)
    t.unref?.()
    resend.set(agentId, t)
  }

  function assign(agentId: string, task: TaskAssignParams): TaskAssignResult {
    const agent = pool.get(agentId)
    if (!agent || agent.status !== "idle" || stopping) return { accepted: false, reason: `agent ${agentId} is ${stopping ? "stopping" : (agent?.status ?? "gone")}` }
    const run: Run = { abort: new AbortController() }
    runs.set(task.taskId, run)
    o.log.info(`worker: task ${task.taskId} accepted by ${agentId}`)
    pool
      .run(agentId, { taskId: task.taskId, prompt: task.prompt }, run.abort.signal)
      .then(
        (result) => report(agentId, turnOutcome(task.taskId, result)),
        (e: unknown) => {
          // A crash or a stop is not the task's failure: the agent's connection goes away, so the daemon requeues the task.
          if (e instanceof AgentCrashedError || e instanceof AgentStoppedError) return
          return report(agentId, { taskId: task.taskId, status: run.abort.signal.aborted ? "cancelled" : "failed", error: (e as Error).message, data: isAppError(e) ? { code: e.code } : undefined })
        },
      )
      .finally(() => runs.delete(task.taskId))
    return { accepted: true }
  }

  /** One ACP connection per agent, for as long as its process lives: a crashed agent disconnects and comes back once restarted. */
  async function connectAgent(agentId: string): Promise<void> {
    const client: AcpClient = new AcpClient({
      url: urls,
      apiKey: o.apiKey,
      agent: { agentId, role: o.role, capabilities: ["claude-code", "worker"], host, version: VERSION },
      requestTimeoutMs: o.requestTimeoutMs,
      reconnect: o.reconnect,
      log: o.log,
      handlers: {
        taskAssign: (task) => assign(agentId, task),
        // as on the daemon: a broadcast goes in front of the agent's next prompt
        broadcast: (n) => void pool.deliver({ from: n.from, message: n.message, to: agentId }),
        taskCancel: ({ taskId, reason }) => {
          o.log.info(`worker: task ${taskId} cancelled${reason ? `: ${reason}` : ""}`)
          runs.get(taskId)?.abort.abort()
        },
        registered: (_r, again) => {
          if (again) o.log.info(`worker: ${agentId} registered again, at ${client.url}`)
          for (const outcome of [...(unsent.get(agentId)?.values() ?? [])]) void report(agentId, outcome)
        },
        reconnecting: (attempt, delayMs) => o.log.warn(`worker: ${agentId} lost the daemon; reconnect attempt ${attempt} in ${delayMs} ms`),
        closed: (e) => e && o.log.error(`worker: ${agentId} stopped talking to the daemon: ${e.message}`),
      },
    })
    clients.set(agentId, client)
    await client.connect()
  }

  pool.on("crashed", (e) => {
    const client = clients.get(e.agentId)
    clients.delete(e.agentId)
    o.log.warn(`worker: ${e.agentId} crashed${e.taskId ? ` running task ${e.taskId}` : ""}; it reconnects once restarted`)
    void client?.close()
  })
  pool.on("ready", (e) => {
    if (!e.restarted || stopping || clients.has(e.agentId)) return
    connectAgent(e.agentId).catch((err: unknown) => o.log.error(`worker: ${e.agentId} could not reconnect after its restart: ${(err as Error).message}`))
  })

  let stopping: Promise<void> | undefined
  const agents: string[] = []
  try {
    for (let i = 1; i <= o.count; i++) {
      const a = await pool.spawn({ role: o.role, id: `${prefix}-${i}` })
      agents.push(a.id)
      await connectAgent(a.id)
    }
  } catch (e) {
    for (const c of clients.values()) await c.close().catch(() => {})
    await pool.close()
    throw e
  }

  return {
    pool,
    agents,
    clients,
    stop: () =>
      // Running tasks are not cancelled: closing the connections hands them back to the daemon, which requeues them.
      (stopping ??= (async () => {
        for (const t of resend.values()) clearTimeout(t)
        await Promise.all([...clients.values()].map((c) => c.close().catch(() => {})))
        await pool.close()
      })()),
  }
}
