import type { RoleRecord } from "./features"

// Each role's recent record, a routing feature: how often its attempts
// completed, how long they took and how many budget tokens they used, with
// older outcomes fading (each new outcome of the role multiplies the old
// counts by `decay`, about 20 outcomes' memory at 0.95). Cancelled attempts
// say nothing about the role and are left out. The daemon feeds it every
// settled decision (and the recent ones from rl_experiences at start); the
// simulator feeds it the same way.

export class RoleStats {
  private readonly roles = new Map<string, RoleRecord>()

  constructor(private readonly decay = 0.95) {}

  add(role: string, o: { completed: boolean; durationMs?: number | null; tokens?: number }): void {
    const r = this.roles.get(role) ?? { n: 0, success: 0, durationMs: 0, tokens: 0 }
    const d = this.decay
    const n = r.n * d + 1
    const next: RoleRecord = { n, success: r.success * d + (o.completed ? 1 : 0), durationMs: r.durationMs, tokens: r.tokens }
    if (o.completed) {
      // means over completed attempts, weighted like the counts
      const w = 1 / Math.max(1, r.success * d + 1)
      if (typeof o.durationMs === "number" && Number.isFinite(o.durationMs)) next.durationMs = r.durationMs + (o.durationMs - r.durationMs) * (r.success === 0 ? 1 : w)
      if (typeof o.tokens === "number") next.tokens = r.tokens + (o.tokens - r.tokens) * (r.success === 0 ? 1 : w)
    }
    this.roles.set(role, next)
  }

  view(): Record<string, RoleRecord> {
    const out: Record<string, RoleRecord> = {}
    for (const [role, r] of this.roles) out[role] = { n: round(r.n), success: round(r.success), durationMs: Math.round(r.durationMs), tokens: Math.round(r.tokens) }
    return out
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000
