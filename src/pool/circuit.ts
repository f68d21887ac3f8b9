import type { RoleHealth } from "./types"

// One circuit per role. Crashes (and failed starts) of a role's agents are
// counted in a sliding window; `threshold` of them open the circuit: the role
// is degraded, restarts and spawns of it wait until the cooldown has passed.
// Then the circuit is half open: starts go ahead, the first agent that
// becomes ready closes it, and a crash opens it again at once.
// Pure bookkeeping on the caller's clock (`now` in ms), so it is tested
// without timers.

export type CircuitOptions = { threshold: number; windowMs: number; cooldownMs: number }

type RoleCircuit = { crashes: number[]; openUntil: number | null; halfOpen: boolean; reason: string | null }

export type CrashOutcome = { opened: boolean; retryAt: number | null }

export class RoleCircuits {
  private roles = new Map<string, RoleCircuit>()

  constructor(private readonly o: CircuitOptions) {}

  private of(role: string): RoleCircuit {
    let c = this.roles.get(role)
    if (!c) this.roles.set(role, (c = { crashes: [], openUntil: null, halfOpen: false, reason: null }))
    return c
  }

  /** Records a crash of one of the role's agents; says whether it opened the circuit. */
  crash(role: string, now: number, reason: string): CrashOutcome {
    const c = this.of(role)
    c.crashes = c.crashes.filter((t) => now - t < this.o.windowMs)
    c.crashes.push(now)
    const wasOpen = c.openUntil !== null
    if (c.halfOpen || c.crashes.length >= this.o.threshold) {
      c.openUntil = now + this.o.cooldownMs
      c.halfOpen = false
      c.reason = `${c.crashes.length} crash(es) of ${role} agents within ${Math.round(this.o.windowMs / 1000)} s; last: ${reason}`
      return { opened: !wasOpen, retryAt: c.openUntil }
    }
    return { opened: false, retryAt: c.openUntil }
  }

  /** When a start of the role may go ahead: now, or when its open circuit half-opens. */
  retryAt(role: string, now: number): number {
    const c = this.roles.get(role)
    if (!c || c.openUntil === null) return now
    if (now < c.openUntil) return c.openUntil
    c.openUntil = null
    c.halfOpen = true
    return now
  }

  isOpen(role: string, now: number): boolean {
    return this.retryAt(role, now) > now
  }

  /** An agent of the role became ready; true when that closed a (half-)open circuit. */
  ready(role: string): boolean {
    const c = this.roles.get(role)
    if (!c || (!c.halfOpen && c.openUntil === null)) return false
    c.halfOpen = false
    c.openUntil = null
    c.crashes = []
    c.reason = null
    return true
  }

  health(now: number): RoleHealth[] {
    return [...this.roles.entries()]
      .map(([role, c]) => {
        const open = c.openUntil !== null && now < c.openUntil
        const circuit: RoleHealth["circuit"] = open ? "open" : c.halfOpen || c.openUntil !== null ? "half-open" : "closed"
        return {
          role,
          state: circuit === "closed" ? ("ok" as const) : ("degraded" as const),
          circuit,
          recentCrashes: c.crashes.filter((t) => now - t < this.o.windowMs).length,
          retryAt: open ? new Date(c.openUntil!).toISOString() : null,
          reason: circuit === "closed" ? null : c.reason,
        }
      })
      .sort((a, b) => a.role.localeCompare(b.role))
  }
}

/** Delay before restart number `n` (1-based) of consecutive crashes: base doubling up to max. */
export function restartDelay(n: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, n - 1))
}
