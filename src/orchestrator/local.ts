import { AgentBusyError, AgentCrashedError, AgentStoppedError } from "../agent/errors"
import { turnFailure } from "../agent/stream-json"
import type { TurnResult } from "../agent/types"
import { isAppError } from "../errors"
import type { Logger } from "../log"
import type { AgentPool, PoolAgent, Unsubscribe } from "../pool/types"
import type { Task } from "../store/task-types"
import type { AssignAnswer, Executor, Outcome, TaskSink, Worker } from "./executor"

// The local executor: Claude Code processes of this daemon's pool. A task is
// one `pool.run()` (one turn of the agent); its TurnResult becomes the task's
// outcome. Cancel aborts the run, which interrupts the turn. An agent that
// dies mid-task is reported lost (the pool's `crashed` event, and the run's
// AgentCrashedError, whichever comes first; the second changes nothing), so
// the task is retried elsewhere while the pool restarts the process.

const LIVE = new Set<PoolAgent["status"]>(["idle", "busy", "waiting"])

export function turnOutcome(taskId: string, r: TurnResult): Outcome {
  const failure = r.ok || r.interrupted ? undefined : turnFailure(r)
  return {
    taskId,
    status: r.ok ? "completed" : r.interrupted ? "cancelled" : "failed",
    output: r.text,
    error: r.ok ? undefined : (failure?.message ?? `the turn ended with ${r.subtype}`),
    ...(failure ? { errorCode: failure.code, errorDetails: failure.details } : {}),
    usage: { inputTokens: r.usage.inputTokens, outputTokens: r.usage.outputTokens, cacheReadTokens: r.usage.cacheReadInputTokens, cacheCreationTokens: r.usage.cacheCreationInputTokens },
    costUsd: r.costUsd,
    durationMs: r.durationMs,
    sessionId: r.sessionId,
    data: { subtype: r.subtype, numTurns: r.numTurns ?? null, permissionDenials: r.permissionDenials.map((d) => d.toolName) },
  }
}

export class LocalExecutor implements Executor {
  readonly kind = "local" as const
  private readonly runs = new Map<string, { agentId: string; abort: AbortController }>()
  private readonly off: Unsubscribe[] = []

  constructor(
    private readonly pool: AgentPool,
    private readonly sink: TaskSink,
    private readonly log: Logger,
    /** The role probed when asking whether the pool has room at all. */
    private readonly probeRole = "backend",
  ) {
    this.off.push(
      pool.on("crashed", (e) => {
        if (e.taskId) void sink.lost(e.agentId, [e.taskId], { code: "agent_crashed", message: `agent ${e.agentId} (${e.role}) died while running the task (${e.signal ?? `exit ${e.code}`})`, details: { lastOutput: e.lastOutput.slice(-2000) } })
      }),
      pool.on("ready", () => sink.changed()),
      pool.on("idle", () => sink.changed()),
      pool.on("recovered", () => sink.changed()),
    )
  }

  workers(): Worker[] {
    return this.pool.list().map((a) => ({ id: a.id, role: a.role, executor: "local", live: LIVE.has(a.status), idle: a.status === "idle" && !this.runningOn(a.id) }))
  }

  private runningOn(agentId: string): boolean {
    for (const r of this.runs.values()) if (r.agentId === agentId) return true
    return false
  }

  async assign(agentId: string, task: Task): Promise<AssignAnswer> {
    const agent = this.pool.get(agentId)
    if (!agent || agent.status !== "idle") return { accepted: false, reason: agent ? `agent ${agentId} is ${agent.status}` : `no local agent ${agentId}` }
    const abort = new AbortController()
    const run = { agentId, abort }
    this.runs.set(task.id, run)
    const done = (fn: () => unknown) => {
      if (this.runs.get(task.id) === run) this.runs.delete(task.id)
      return fn()
    }
    this.pool.run(agentId, { taskId: task.id, prompt: task.prompt ?? task.description }, abort.signal).then(
      (result) => done(() => this.sink.result(agentId, turnOutcome(task.id, result))),
      (e: unknown) => done(() => this.failed(agentId, task.id, e, abort.signal.aborted)),
    )
    return { accepted: true }
  }

  private failed(agentId: string, taskId: string, e: unknown, aborted: boolean): unknown {
    if (aborted) return // cancelled, timed out or requeued by the orchestrator: it has already moved the task on
    const message = e instanceof Error ? e.message : String(e)
    if (e instanceof AgentCrashedError || e instanceof AgentStoppedError) {
      return this.sink.lost(agentId, [taskId], { code: e.code, message, details: e.details })
    }
    if (e instanceof AgentBusyError) return this.sink.lost(agentId, [taskId], { code: "agent_refused", message })
    this.log.warn(`local agent ${agentId}: task ${taskId} failed to run: ${message}`)
    return this.sink.result(agentId, { taskId, status: "failed", error: message, data: isAppError(e) ? { code: e.code } : undefined })
  }

  cancel(_agentId: string, taskId: string): void {
    this.runs.get(taskId)?.abort.abort()
    this.runs.delete(taskId)
  }

  release(agentId: string, taskId: string): void {
    this.cancel(agentId, taskId)
  }

  canSpawn(role?: string): boolean {
    const r = this.pool.canSpawn(role ?? this.probeRole)
    return role === undefined ? r.ok || r.code !== "pool_full" : r.ok
  }

  async spawn(role: string): Promise<Worker> {
    const a = await this.pool.spawn({ role })
    return { id: a.id, role: a.role, executor: "local", live: true, idle: a.status === "idle" }
  }

  close(): void {
    for (const off of this.off.splice(0)) off()
    for (const r of this.runs.values()) r.abort.abort()
    this.runs.clear()
  }
}
