import { ACTIONS } from "../orchestrator/features"
import { ARM_DIMS, armInput, breathe, greedy } from "./inputs"
import { invertSpd } from "./linalg"
import type { Blob, Evaluation, Params, Policy, Sample } from "./types"

// LinUCB with disjoint arms (Li et al. 2010), the default learned router:
// per role a ridge regression of the reward on that role's input
// (inputs.ts), and the choice is the eligible role with the highest
// estimate + α · confidence width. Each routing decision is one step with
// its own reward, so a contextual bandit fits the problem exactly.
// Drift: each new observation of a role discounts its older evidence by
// `forgetting` (A = λ(A − I) + I + zzᵀ keeps the ridge prior fixed), so a role
// that degrades is noticed within tens of its attempts.

const D = ARM_DIMS

/**
 * The prior mean of each role's weights (ridge towards it instead of 0): a
 * neutral expected reward, plus a bonus when the task's words name this role.
 * So an untrained LinUCB starts out agreeing with the keyword heuristic, and
 * evidence moves it away where the heuristic is wrong.
 */
export const PRIOR = { bias: 0.3, contentRole: 0.6 }
function prior(arm: number): Float64Array {
  const b = new Float64Array(D)
  b[0] = PRIOR.bias
  if (arm < 6) b[1 + arm] = PRIOR.contentRole // armInput: [bias, task.role one-hot (6), ...]
  return b
}
const PRIORS = Array.from({ length: ACTIONS }, (_, a) => prior(a))

export class LinUcb implements Policy {
  readonly algorithm = "linucb" as const
  private a: Float64Array[] = []
  private b: Float64Array[] = []
  private inv: Float64Array[] = []
  private theta: Float64Array[] = []
  private dirty: boolean[] = []
  private n: number[] = []
  private readonly z = new Float64Array(D)
  private readonly tmp = new Float64Array(D)
  private readonly scratch = new Float64Array(D * D)
  updates = 0
  readonly loss = null

  constructor(private p: Params) {
    this.reset()
  }

  private reset(): void {
    const eye = () => {
      const m = new Float64Array(D * D)
      for (let i = 0; i < D; i++) m[i * D + i] = 1
      return m
    }
    this.a = Array.from({ length: ACTIONS }, eye)
    this.inv = Array.from({ length: ACTIONS }, eye)
    this.b = Array.from({ length: ACTIONS }, (_, a) => prior(a))
    this.theta = Array.from({ length: ACTIONS }, () => new Float64Array(D))
    this.dirty = new Array(ACTIONS).fill(false)
    this.n = new Array(ACTIONS).fill(0)
    this.updates = 0
  }

  setParams(p: Params): void {
    this.p = p
  }

  epsilon(): number {
    return this.p.epsilon
  }

  private refresh(arm: number): void {
    if (!this.dirty[arm]) return
    invertSpd(this.a[arm]!, D, this.inv[arm]!, this.scratch)
    const inv = this.inv[arm]!
    const b = this.b[arm]!
    const th = this.theta[arm]!
    for (let i = 0; i < D; i++) {
      let s = 0
      for (let j = 0; j < D; j++) s += inv[i * D + j]! * b[j]!
      th[i] = s
    }
    this.dirty[arm] = false
  }

  /** Estimated reward and confidence width of one role. */
  estimate(x: ArrayLike<number>, arm: number): { mean: number; width: number } {
    this.refresh(arm)
    const z = armInput(x, arm, this.z)
    const inv = this.inv[arm]!
    const th = this.theta[arm]!
    let mean = 0
    let w = 0
    for (let i = 0; i < D; i++) {
      mean += th[i]! * z[i]!
      let s = 0
      const row = i * D
      for (let j = 0; j < D; j++) s += inv[row + j]! * z[j]!
      w += z[i]! * s
    }
    return { mean, width: Math.sqrt(Math.max(0, w)) }
  }

  evaluate(x: Float32Array, eligible: readonly boolean[], heuristic: number): Evaluation {
    const scores = new Float64Array(ACTIONS).fill(-Infinity)
    for (let a = 0; a < ACTIONS; a++) {
      if (!eligible[a]) continue
      const e = this.estimate(x, a)
      scores[a] = e.mean + this.p.exploration * e.width
    }
    const probs = greedy(scores, eligible)
    let best = -1
    for (let a = 0; a < ACTIONS; a++) if (probs[a]! > 0 && (best < 0 || scores[a]! > scores[best]!)) best = a
    const unsure = heuristic >= 0 && eligible[heuristic] === true && best !== heuristic && scores[best]! - scores[heuristic]! < this.p.margin
    return { probs, scores, confident: !unsure }
  }

  observe(s: Sample): void {
    const arm = s.action
    const z = armInput(s.x, arm, this.tmp)
    const a = this.a[arm]!
    const b = this.b[arm]!
    const lam = this.p.forgetting
    const p0 = PRIORS[arm]!
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < D; j++) {
        const prior = i === j ? 1 : 0
        a[i * D + j] = lam * (a[i * D + j]! - prior) + prior + z[i]! * z[j]!
      }
      b[i] = lam * (b[i]! - p0[i]!) + p0[i]! + s.reward * z[i]!
    }
    this.dirty[arm] = true
    this.n[arm]!++
    this.updates++
  }

  async train(samples: readonly Sample[]): Promise<void> {
    this.reset()
    let k = 0
    for (const s of samples) {
      this.observe(s)
      if (++k % 500 === 0) await breathe()
    }
  }

  save(): Blob {
    return { meta: { d: D, actions: ACTIONS, updates: this.updates, n: this.n }, arrays: [...this.a, ...this.b] }
  }

  load(blob: Blob): void {
    if (blob.meta.d !== D || blob.meta.actions !== ACTIONS) throw new Error(`a LinUCB model of another shape (d ${String(blob.meta.d)}, this build ${D})`)
    this.reset()
    this.a = blob.arrays.slice(0, ACTIONS).map((x) => Float64Array.from(x))
    this.b = blob.arrays.slice(ACTIONS, 2 * ACTIONS).map((x) => Float64Array.from(x))
    this.dirty = new Array(ACTIONS).fill(true)
    this.n = (blob.meta.n as number[]) ?? new Array(ACTIONS).fill(0)
    this.updates = Number(blob.meta.updates ?? 0)
  }
}
