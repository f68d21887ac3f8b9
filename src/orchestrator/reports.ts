import { UnavailableError } from "../errors"
import { isTransient } from "../store/sql"
import type { Transition } from "../store/task-types"
import { completionAggregate } from "./coordination"
import type { Outcome, Progress } from "./executor"
import type { Orchestrator } from "./orchestrator"

// What executors report about the tasks they run: progress, the outcome, an
// agent lost mid-task. Each report becomes one store transition, published
// and settled by the orchestrator. A report for an attempt that is no longer
// the agent's (requeued, cancelled or timed out meanwhile) is dropped.

export class Reports {
  /** The tail of each task's report chain (see inOrder). */
  private readonly chains = new Map<string, Promise<void>>()

  constructor(private readonly o: Orchestrator) {}

  /**
   * Problem: progress arrives as an ACP notification and its handling is
   * asynchronous, so a result sent right after it could be applied first,
   * and the progress event would land after the task ended (or be lost).
   * Fix: an agent's reports about one task apply in the order they arrived.
   */
  private inOrder<T>(taskId: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.chains.get(taskId) ?? Promise.resolve()).then(fn)
    const tail = run.then(
      () => undefined,
      () => undefined,
    )
    this.chains.set(taskId, tail)
    void tail.then(() => {
      if (this.chains.get(taskId) === tail) this.chains.delete(taskId)
    })
    return run
  }

  progress(agentId: string, p: Progress): void {
    this.inOrder(p.taskId, async () => {
      const attempt = await this.o.attemptOf(p.taskId, agentId)
      if (attempt === undefined) return
      const data = p.data !== undefined && typeof p.data === "object" && p.data !== null && !Array.isArray(p.data) ? (p.data as Record<string, unknown>) : p.data === undefined ? {} : { data: p.data }
      const t = await this.o.store.tasks.progress(p.taskId, { progress: p.percent === undefined ? undefined : p.percent / 100, message: p.message, attempt, data })
      if (t) await this.o.publish(t.event, t.task)
    }).catch((e: unknown) => this.o.log.warn(`progress of task ${p.taskId}: ${(e as Error).message}`))
  }

  /**
   * An agent's outcome. When the database does not answer (a PostgreSQL
   * restart), a local agent's outcome is kept and retried with backoff until
   * it is written: nothing an agent finished is lost. A remote agent's
   * (`retry: false`, from ACP) is refused with a 503 instead: its worker keeps
   * it and sends it again.
   */
  result(agentId: string, outcome: Outcome, opts: { retry?: boolean } = {}): Promise<void> {
    return this.inOrder(outcome.taskId, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.apply(agentId, outcome)
        } catch (e) {
          if (!isTransient(e)) throw e
          if (opts.retry === false || this.o.isStopped) throw new UnavailableError(`the database does not answer; the result of task ${outcome.taskId} was not recorded`, { hint: "send it again shortly", cause: e })
          if (attempt === 1) this.o.log.warn(`recording the result of task ${outcome.taskId} failed (${(e as Error).message}); retrying until the database answers`)
          await Bun.sleep(Math.min(5000, 250 * 2 ** Math.min(attempt - 1, 5)))
        }
      }
    })
  }

  private async apply(agentId: string, outcome: Outcome): Promise<void> {
    const { o } = this
    const entry = o.entry(outcome.taskId)
    if (entry && entry.agentId !== agentId) return
    if (entry) await entry.ready
    const attempt = entry ? entry.attempt : await o.attemptOf(outcome.taskId, agentId)
    if (attempt === undefined || (entry && o.entry(outcome.taskId) !== entry)) return // not this agent's any more: requeued, cancelled or timed out
    const common = { attempt, usage: outcome.usage, costUsd: outcome.costUsd, durationMs: outcome.durationMs, sessionId: outcome.sessionId, metadata: outcome.data === undefined ? undefined : { agentData: outcome.data } }
    let t: Transition | undefined
    if (outcome.status === "completed") {
      const task = entry?.task ?? (await o.store.tasks.get(outcome.taskId))
      const aggregate = task && (task.coordinate || o.delegated(task.id)) ? await completionAggregate(o.store.sql, task, outcome) : undefined
      t = await o.store.tasks.complete(outcome.taskId, outcome.output ?? "", aggregate ? { ...common, metadata: { ...common.metadata, aggregate } } : common)
    } else if (outcome.status === "failed") {
      const code = outcome.errorCode ?? "agent_failed"
      t = await o.store.tasks.fail(outcome.taskId, { code, message: outcome.error ?? `agent ${agentId} reported failure`, ...(outcome.errorDetails ? { details: outcome.errorDetails } : {}) }, common)
    } else {
      t = await o.store.tasks.cancel(outcome.taskId, outcome.error ?? `cancelled by agent ${agentId}`)
    }
    const mine = o.entry(outcome.taskId)
    if (mine?.agentId === agentId) o.forget(outcome.taskId)
    if (t) {
      if (mine) o.settle(mine, { end: outcome.status, code: outcome.status === "failed" ? (outcome.errorCode ?? "agent_failed") : undefined, usage: outcome.usage, costUsd: outcome.costUsd, durationMs: outcome.durationMs })
      await o.publish(t.event, t.task)
      await o.ended(t.task)
    }
    if (!entry || entry.executor.kind === "remote") {
      // A remote agent's mirror; the pool keeps its own agents' state.
      o.agentState(agentId, "idle", null)
      void o.store.agents.markState(agentId, "idle", { currentTaskId: null }).catch(() => {})
    }
    setTimeout(() => void o.dispatch(), 0) // after the executor untracked the task, so the agent counts as idle
  }
}
