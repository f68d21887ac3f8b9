import type { Clock, Timer } from "../acp/clock"
import type { StateStore, Unsubscribe } from "../state/types"
import { FINAL_STATUSES, type Task, type TaskEvent } from "../store/task-types"

// Live task events. Every transition the orchestrator makes is published on
// the state store's pub/sub (in-process, or Redis so that an SSE client of
// one daemon sees a task another daemon runs); this bus fans them out to the
// listeners of each task. Replay of what was missed comes from the store.

export const TASK_EVENTS_CHANNEL = "cca:task-events" as const

/** A task event as it travels and as SSE clients get it (createdAt as ISO text). */
export type TaskEventJson = { id: number; taskId: string; type: string; data: Record<string, unknown>; createdAt: string }

export const FINAL_EVENT_TYPES = new Set(["completed", "failed", "cancelled"])

export function eventJson(e: TaskEvent): TaskEventJson {
  return { id: e.id, taskId: e.taskId, type: e.type, data: e.data, createdAt: e.createdAt.toISOString() }
}

type Listener = (e: TaskEventJson) => void

export class TaskEventBus {
  private listeners = new Map<string, Set<Listener>>()
  private all = new Set<Listener>()
  private unsubscribe: Unsubscribe | undefined

  constructor(private readonly state: StateStore) {}

  async start(): Promise<void> {
    this.unsubscribe ??= await this.state.subscribe(TASK_EVENTS_CHANNEL, (message) => this.deliver(message as TaskEventJson))
  }

  async publish(e: TaskEvent): Promise<void> {
    await this.state.publish(TASK_EVENTS_CHANNEL, eventJson(e))
  }

  /** Listen to one task's events (or every task's with "*"). Returns the unsubscribe. */
  on(taskId: string, fn: Listener): () => void {
    const set = taskId === "*" ? this.all : (this.listeners.get(taskId) ?? new Set<Listener>())
    set.add(fn)
    if (taskId !== "*") this.listeners.set(taskId, set)
    return () => {
      set.delete(fn)
      if (taskId !== "*" && set.size === 0) this.listeners.delete(taskId)
    }
  }

  get listenerCount(): number {
    let n = this.all.size
    for (const s of this.listeners.values()) n += s.size
    return n
  }

  private deliver(e: TaskEventJson): void {
    for (const fn of this.listeners.get(e.taskId) ?? []) fn(e)
    for (const fn of this.all) fn(e)
  }

  stop(): void {
    this.unsubscribe?.()
    this.unsubscribe = undefined
    this.listeners.clear()
    this.all.clear()
  }
}

/**
 * Wait for a task to end (completed, failed or cancelled): the task, or
 * undefined on timeout or abort. Listens before it reads, so an end between
 * the read and the wait is not missed.
 */
export async function waitForEnd(bus: TaskEventBus, clock: Clock, read: () => Promise<Task | undefined>, taskId: string, timeoutMs: number, signal?: AbortSignal): Promise<Task | undefined> {
  const isFinal = (t: Task | undefined): t is Task => !!t && FINAL_STATUSES.includes(t.status)
  let off = () => {}
  let timer: Timer | null = null
  const ended = new Promise<void>((resolve) => {
    off = bus.on(taskId, (e) => {
      if (FINAL_EVENT_TYPES.has(e.type)) resolve()
    })
    timer = clock.setTimeout(resolve, timeoutMs)
    signal?.addEventListener("abort", () => resolve(), { once: true })
  })
  try {
    const now = await read()
    if (isFinal(now)) return now
    await ended
    const after = await read()
    return isFinal(after) ? after : undefined
  } finally {
    off()
    ;(timer as Timer | null)?.cancel()
  }
}
