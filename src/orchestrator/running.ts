import type { Clock, Timer } from "../acp/clock"
import type { Task } from "../store/task-types"
import type { Executor } from "./executor"
import type { Decision } from "./experiences"

// The tasks this daemon has handed to agents and not seen finish: which agent
// and attempt holds each, its timeout, and the routing decision to record
// when the attempt ends.

export type Running = {
  task: Task
  agentId: string
  executor: Executor
  attempt: number
  timer: Timer | null
  accepted: boolean
  /** Resolves once the `accepted` event is out, so a result never overtakes it. */
  ready: Promise<void>
  markReady: () => void
  /** The routing decision that gave it this agent (recorded with its reward when the attempt ends). */
  decision: Decision | undefined
}

export type TrackOptions = { decision?: Decision; accepted?: boolean; timeoutMs: number; onTimeout: (entry: Running) => void }

export class RunningTasks {
  private readonly map = new Map<string, Running>()
  private emptied: (() => void) | null = null

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.map.size
  }

  get(taskId: string): Running | undefined {
    return this.map.get(taskId)
  }

  ids(): string[] {
    return [...this.map.keys()]
  }

  /** Agents holding a task (or an offer in flight). */
  agents(): Set<string> {
    const s = new Set<string>()
    for (const e of this.map.values()) s.add(e.agentId)
    return s
  }

  /** Remember a task an agent runs now (replacing what was tracked for it) and arm its timeout. */
  track(task: Task, agentId: string, executor: Executor, o: TrackOptions): Running {
    this.forget(task.id)
    let markReady!: () => void
    const ready = new Promise<void>((r) => (markReady = r))
    const entry: Running = { task, agentId, executor, attempt: task.attempts, timer: null, accepted: o.accepted ?? false, ready, markReady, decision: o.decision }
    if (entry.accepted) markReady()
    if (o.timeoutMs > 0) entry.timer = this.clock.setTimeout(() => this.map.get(task.id) === entry && o.onTimeout(entry), o.timeoutMs)
    this.map.set(task.id, entry)
    return entry
  }

  /** Stop tracking a task; returns what was tracked. */
  forget(taskId: string): Running | undefined {
    const entry = this.map.get(taskId)
    if (!entry) return undefined
    entry.timer?.cancel()
    entry.markReady()
    this.map.delete(taskId)
    if (this.map.size === 0) this.emptied?.()
    return entry
  }

  /** Resolves once nothing runs, or after `ms`. */
  async whenEmpty(ms: number): Promise<void> {
    if (this.map.size === 0 || ms <= 0) return
    await new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(resolve, ms)
      this.emptied = () => {
        timer.cancel()
        resolve()
      }
    })
    this.emptied = null
  }
}
