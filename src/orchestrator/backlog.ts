// What the dispatcher knows is not waiting in the queue, so a round can skip
// reading it. Tasks become pending only by being created or requeued (here
// or, through the event bus, on another daemon) or when their backoff runs
// out (the tick); each of those notes new work and forgets what was known.
// A read that left nothing waiting clears the roles it covered: every role
// when it read the whole queue (the pool has room), else the roles of the
// idle agents it read for. An agent becoming idle then costs no query when
// its role is clear.

export class Backlog {
  private generation = 0
  private everything = false
  private readonly roles = new Set<string>()

  /** New or requeued tasks may be pending, of any role. */
  note(): void {
    this.generation++
    this.everything = false
    this.roles.clear()
  }

  /** Nothing can be waiting for idle agents of these roles (`room`: nor for an agent the pool could start). */
  isClear(room: boolean, idleRoles: Iterable<string>): boolean {
    if (this.everything) return true
    if (room) return false
    for (const r of idleRoles) if (!this.roles.has(r)) return false
    return true
  }

  /** Taken before a read; `cleared` ignores a read that new work overtook. */
  mark(): number {
    return this.generation
  }

  /** A read (of the whole queue, or of these roles' tasks) taken at `mark` left nothing waiting. */
  cleared(mark: number, whole: boolean, roles: Iterable<string>): void {
    if (mark !== this.generation) return
    if (whole) this.everything = true
    else for (const r of roles) this.roles.add(r)
  }
}
