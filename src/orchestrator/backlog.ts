import type { Task } from "../store/task-types"

// What the dispatcher knows of the queue, so a round reads it only when it
// must. Tasks become pending by being created or requeued (here, or on
// another daemon: the event bus tells) or when a backoff runs out (the tick).
// - Exact: after a round that saw every pending task, the daemon knows the
//   whole queue; tasks created here are added to it, and the next round
//   routes those without reading. Anything else (a requeue, the tick, another
//   daemon's task) makes it unknown again.
// - Per role: a read of only the idle agents' roles (the pool is full) that
//   left nothing waiting clears those roles, so an agent of a cleared role
//   becoming idle costs no read.

export class Backlog {
  private generation = 0
  /** Every pending task, when known exactly; null: read the queue. */
  private exact: Task[] | null = null
  private readonly roles = new Set<string>()

  /** New work: a task created here (kept in the exact queue when there is one), or anything that may be pending. */
  note(task?: Task): void {
    this.generation++
    this.roles.clear()
    if (task && this.exact) this.exact.push(task)
    else this.exact = null
  }

  /** A task that is not pending any more (cancelled while it waited). */
  drop(taskId: string): void {
    if (this.exact) this.exact = this.exact.filter((t) => t.id !== taskId)
  }

  /** Nothing can be waiting for idle agents of these roles (`room`: nor for an agent the pool could start). */
  isClear(room: boolean, idleRoles: Iterable<string>): boolean {
    if (this.exact) return this.exact.length === 0
    if (room) return false
    for (const r of idleRoles) if (!this.roles.has(r)) return false
    return true
  }

  /** The whole queue in claim order (priority, then age) when known; null when it must be read. */
  known(): Task[] | null {
    return this.exact && [...this.exact].sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /** Taken before a round; a round that new work overtook changes nothing. */
  mark(): number {
    return this.generation
  }

  /**
   * After a round that routed `seen`: `whole`, it saw every pending task,
   * and `left` are the ones still waiting; else it saw the tasks of `roles`
   * and, when `left` is empty, those roles have nothing waiting. Tasks created
   * here meanwhile stay known.
   */
  settled(mark: number, whole: boolean, roles: Iterable<string>, seen: readonly Task[], left: Task[]): void {
    if (mark !== this.generation) {
      const routed = new Set(seen.map((t) => t.id))
      this.exact = whole && this.exact ? [...left, ...this.exact.filter((t) => !routed.has(t.id))] : null
      return
    }
    if (whole) this.exact = left
    else if (left.length === 0) for (const r of roles) this.roles.add(r)
  }
}
