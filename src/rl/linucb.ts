import { ACTIONS } from "../orchestrator/features"
import { ARM_DIMS, armInput, breathe, greedy } from "./inputs"
import { KERNEL, TextKernel } from "./kernel"
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
// Next to the linear model, a kernel memory over the task's text (kernel.ts)
// gives each role a local mean of its rewards on similar tasks; the score
// pools the two (see score()). The linear model alone learns a kind of task
// slowly when its descriptions differ in several ways; the local mean moves
// with the first few rewards of that kind.

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
  private readonly kernel = new TextKernel()
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
    this.kernel.reset()
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
    this.measure(x, arm)
    return { mean: this.mean, width: this.width }
  }

  private mean = 0
  private width = 0

  /** estimate() without allocating: sets `mean` and `width` (A⁻¹ is symmetric, so half the products). */
  private measure(x: ArrayLike<number>, arm: number): void {
    this.refresh(arm)
    const z = armInput(x, arm, this.z)
    const inv = this.inv[arm]!
    const th = this.theta[arm]!
    let mean = 0
    let w = 0
    for (let i = 0; i < D; i++) {
      const zi = z[i]!
      mean += th[i]! * zi
      if (zi === 0) continue
      const row = i * D
      let s = 0
      for (let j = i + 1; j < D; j++) s += inv[row + j]! * z[j]!
      w += zi * (inv[row + i]! * zi + 2 * s)
    }
    this.mean = mean
    this.width = Math.sqrt(Math.max(0, w))
  }

  /**
   * A role's score: with a text vector, the kernel memory's mean of rewards
   * of this role on similar texts (shrunk toward the prior: neutral, plus the
   * keyword bonus), pooled with the linear estimate by precision (the linear
   * model counts as KERNEL.precision / width² rewards), plus an optimism
   * bonus that shrinks with the rewards seen; without one, plain LinUCB.
   */
  private score(x: ArrayLike<number>, a: number, text: boolean): number {
    this.measure(x, a)
    const e = this
    if (!text) return e.mean + this.p.exploration * e.width
    const n = this.kernel.count[a]!
    const c = KERNEL.shrink
    const prior = PRIOR.bias + (a < 6 && (x[a] ?? 0) > 0.5 ? PRIOR.contentRole : 0) // x[0..5]: task.role one-hot, in action order
    const local = (this.kernel.sum[a]! + c * prior) / (n + c)
    const linear = KERNEL.precision / Math.max(1e-6, e.width * e.width)
    const mean = (local * (n + c) + e.mean * linear) / (n + c + linear)
    return mean + this.p.exploration * ((e.width * c) / (n + c) + KERNEL.bonus / Math.sqrt(n + c))
  }

  evaluate(x: Float32Array, eligible: readonly boolean[], heuristic: number): Evaluation {
    const scores = new Float64Array(ACTIONS).fill(-Infinity)
    const text = this.kernel.weigh(x)
    for (let a = 0; a < ACTIONS; a++) if (eligible[a]) scores[a] = this.score(x, a, text)
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
    this.kernel.observe(s.x, arm, s.reward)
    this.dirty[arm] = true
    this.n[arm]!++
    this.updates++
  }

  async train(samples: readonly Sample[]): Promise<void> {
    this.reset()
    let k = 0
    for (const s of samples) {
      this.observe(s)
      if (++k % 200 === 0) await breathe()
    }
  }

  save(): Blob {
    const k = this.kernel.save()
    return { meta: { d: D, actions: ACTIONS, updates: this.updates, n: this.n, kernel: k.meta }, arrays: [...this.a, ...this.b, ...k.arrays] }
  }

  load(blob: Blob): void {
    if (blob.meta.d !== D || blob.meta.actions !== ACTIONS) throw new Error(`a LinUCB model of another shape (d ${String(blob.meta.d)}, this build ${D})`)
    // Models saved before the text kernel have no memory of it: they relearn from the recorded decisions.
    if (!blob.meta.kernel || blob.arrays.length !== 2 * ACTIONS + 4) throw new Error("a LinUCB model without its text kernel (saved by an older build)")
    this.reset()
    this.a = blob.arrays.slice(0, ACTIONS).map((x) => Float64Array.from(x))
    this.b = blob.arrays.slice(ACTIONS, 2 * ACTIONS).map((x) => Float64Array.from(x))
    this.kernel.load(blob.meta.kernel as { anchors: number; clock: number }, blob.arrays.slice(2 * ACTIONS))
    this.dirty = new Array(ACTIONS).fill(true)
    this.n = (blob.meta.n as number[]) ?? new Array(ACTIONS).fill(0)
    this.updates = Number(blob.meta.updates ?? 0)
  }
}
