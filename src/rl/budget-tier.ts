import { forgetfulUpdate, invertSpd, linearEstimate } from "./linalg"
import { GATE_DIMS, gateInput } from "./memory-gate"
import type { Rng } from "./rng"
import type { Params, Sample } from "./types"

// The composite action's token-budget half: which budget tier the task's
// prompt is fitted to, as a multiple of the budget configured for it
// (agents.token_budget_per_task / token_budget_roles). A tight tier makes
// the tokens stage compress harder (fewer tokens billed, more reward when
// the task still succeeds under budget); a generous one lets a long prompt
// go whole (fewer failures from lossy cuts). Which pays depends on the task
// and the role, so a three-armed LinUCB over what the memory gate reads (the
// role routed to as the intercept, complexity, the text vector; no shared
// bias: one role's failures under a tier would otherwise weigh half on every
// other role's estimate of it, and an arm judged bad is never tried again
// at ε/3) learns it from the route's
// reward. `normal` is regressed on the reward; the other two tiers on how
// much better than normal's estimate they did (so a tier never tried is
// estimated as good as normal, and its width makes it tried: the rewards
// are mostly positive, and a zero prior would never try anything but the
// default). The default is the configured budget (`normal`): an untrained
// gate, or one whose best tier's upper bound does not beat normal's by
// `margin`, keeps it. ε of the probability is spread over the three tiers. The stage tries the
// chosen tier and falls back to the configured budget when the prompt cannot
// be fitted to it (src/tokens/budget.ts): an exploratory tier never fails a
// task that the configured budget would have sent.

export const TIERS = [
  { name: "tight", multiple: 0.5 },
  { name: "normal", multiple: 1 },
  { name: "generous", multiple: 2 },
] as const
export type TierName = (typeof TIERS)[number]["name"]
export const NORMAL_TIER = 1
const K = TIERS.length
const D = GATE_DIMS

export type TierChoice = {
  tier: number
  /** Probability the gate gave this tier (with its ε share). */
  propensity: number
  decidedBy: "policy" | "default"
  reason: "untrained" | "unsure" | "policy"
  explored: boolean
}

/** The routing info's `budget` (what the tokens stage reads and the gate learns). */
export function tierInfo(c: TierChoice): Record<string, unknown> {
  const t = TIERS[c.tier]!
  return { tier: t.name, multiple: t.multiple, propensity: Math.round(c.propensity * 1e4) / 1e4, decidedBy: c.decidedBy, reason: c.reason, explored: c.explored }
}

/** What a recorded decision says of the budget half (route info `budget`), if it had one. */
export function tierOfInfo(m: Record<string, unknown> | undefined): { tier: number; propensity: number } | undefined {
  const b = m?.budget as { tier?: unknown; propensity?: unknown } | undefined
  const tier = TIERS.findIndex((t) => t.name === b?.tier)
  if (!b || tier < 0) return undefined
  const p = Number(b.propensity)
  return { tier, propensity: Number.isFinite(p) && p > 0 && p <= 1 ? p : 1 }
}

export class TierGate {
  private a: Float64Array[] = []
  private b: Float64Array[] = []
  private inv: Float64Array[] = []
  private dirty: boolean[] = []
  private readonly z = new Float64Array(D)
  private readonly scratch = new Float64Array(D * D)
  updates = 0

  constructor(private p: Params) {
    this.reset()
  }

  setParams(p: Params): void {
    this.p = p
  }

  reset(): void {
    const eye = () => {
      const m = new Float64Array(D * D)
      for (let i = 0; i < D; i++) m[i * D + i] = 1
      return m
    }
    this.a = Array.from({ length: K }, eye)
    this.inv = Array.from({ length: K }, eye)
    this.b = Array.from({ length: K }, () => new Float64Array(D))
    this.dirty = Array.from({ length: K }, () => false)
    this.updates = 0
  }

  /** The memory gate's input without its shared bias: the role routed to is the intercept, so one role's tiers are not judged on another's outcomes. */
  private input(x: ArrayLike<number>, action: number): Float64Array {
    const z = gateInput(x, action, this.z)
    z[0] = 0
    return z
  }

  /** Estimated reward and confidence width of a tier for a task routed to `action` (the other tiers: normal's estimate plus theirs over it). */
  estimate(x: ArrayLike<number>, action: number, tier: number): { mean: number; width: number } {
    const own = this.linear(x, action, tier)
    return tier === NORMAL_TIER ? own : { mean: this.linear(x, action, NORMAL_TIER).mean + own.mean, width: own.width }
  }

  private linear(x: ArrayLike<number>, action: number, tier: number): { mean: number; width: number } {
    if (this.dirty[tier]) {
      invertSpd(this.a[tier]!, D, this.inv[tier]!, this.scratch)
      this.dirty[tier] = false
    }
    const z = this.input(x, action)
    return linearEstimate(this.inv[tier]!, this.b[tier]!, z, D)
  }

  /** The tier for a task routed to `action`. */
  choose(x: ArrayLike<number>, action: number, rng: Rng): TierChoice {
    let target = NORMAL_TIER
    let reason: TierChoice["reason"] = "untrained"
    if (this.updates >= this.p.warmup) {
      const ucb = TIERS.map((_, k) => {
        const e = this.estimate(x, action, k)
        return e.mean + this.p.exploration * e.width
      })
      let best = NORMAL_TIER
      for (let k = 0; k < K; k++) if (ucb[k]! > ucb[best]!) best = k
      const gap = ucb[best]! - ucb[NORMAL_TIER]!
      if (best !== NORMAL_TIER && gap >= this.p.margin) (target = best), (reason = "policy")
      else reason = gap > 0 ? "unsure" : "policy"
    }
    const eps = Math.min(0.5, Math.max(0, this.p.epsilon))
    const prob = (k: number) => (k === target ? 1 - eps : 0) + eps / K
    let u = rng.next()
    let tier = K - 1
    for (let k = 0; k < K; k++) {
      u -= prob(k)
      if (u < 0) {
        tier = k
        break
      }
    }
    return { tier, propensity: prob(tier), decidedBy: reason === "policy" ? "policy" : "default", reason, explored: tier !== target }
  }

  observe(x: ArrayLike<number>, action: number, tier: number, reward: number): void {
    if (tier < 0 || tier >= K) return
    const target = tier === NORMAL_TIER ? reward : reward - this.linear(x, action, NORMAL_TIER).mean
    const z = this.input(x, action)
    forgetfulUpdate(this.a[tier]!, this.b[tier]!, z, target, D, this.p.forgetting)
    this.dirty[tier] = true
    this.updates++
  }

  /** Learn a recorded decision's budget half, when it had one. */
  observeSample(s: Sample): void {
    if (s.budget) this.observe(s.x, s.action, s.budget.tier, s.reward)
  }

  train(samples: readonly Sample[]): void {
    this.reset()
    for (const s of samples) this.observeSample(s)
  }
}
