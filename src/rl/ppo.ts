import { ACTIONS } from "../orchestrator/features"
import { breathe, eligibleOf, NETWORK_INPUT } from "./inputs"
import { Mlp } from "./mlp"
import { Rng } from "./rng"
import type { Blob, Evaluation, Params, Policy, Sample } from "./types"

// PPO (Schulman et al. 2017), actor-critic: the actor is an MLP over the
// whole state giving a softmax over the eligible roles, the critic an MLP
// giving the state's value. Every `batch_size` rewards it runs 4 epochs of
// the clipped surrogate (ε_clip 0.2) with an entropy bonus (0.01), the
// advantage being reward (+ γ · V(next) for a requeued attempt) − V(state),
// normalised over the batch. The "old" probability of an action is the one
// the router really chose it with (recorded propensity, including the
// router's exploration and heuristic deferrals), so the ratio is honest.

const HIDDEN = 32
const CLIP = 0.2
const ENTROPY = 0.01
const EPOCHS = 4

export class Ppo implements Policy {
  readonly algorithm = "ppo" as const
  private actor!: Mlp
  private critic!: Mlp
  private buffer: Sample[] = []
  private rng!: Rng
  private readonly probs = new Float64Array(ACTIONS)
  updates = 0
  loss: number | null = null

  constructor(
    private p: Params,
    private readonly seed = 11,
  ) {
    this.reset()
  }

  private reset(): void {
    this.actor = new Mlp({ sizes: [NETWORK_INPUT, HIDDEN, HIDDEN, ACTIONS], seed: this.seed })
    this.critic = new Mlp({ sizes: [NETWORK_INPUT, HIDDEN, 1], seed: this.seed + 1 })
    this.rng = new Rng(this.seed + 2)
    this.buffer = []
    this.updates = 0
    this.loss = null
  }

  setParams(p: Params): void {
    this.p = p
  }

  epsilon(): number {
    return this.p.epsilon
  }

  private softmax(logits: Float32Array, eligible: readonly boolean[], out: Float64Array): Float64Array {
    let max = -Infinity
    for (let a = 0; a < ACTIONS; a++) if (eligible[a] && logits[a]! > max) max = logits[a]!
    let sum = 0
    for (let a = 0; a < ACTIONS; a++) {
      out[a] = eligible[a] ? Math.exp(logits[a]! - max) : 0
      sum += out[a]!
    }
    for (let a = 0; a < ACTIONS; a++) out[a] = sum > 0 ? out[a]! / sum : 0
    return out
  }

  evaluate(x: Float32Array, eligible: readonly boolean[], heuristic: number): Evaluation {
    const logits = this.actor.forward(x)
    const probs = this.softmax(logits, eligible, new Float64Array(ACTIONS))
    const scores = Float64Array.from(logits, (l, a) => (eligible[a] ? l : -Infinity))
    let best = -1
    for (let a = 0; a < ACTIONS; a++) if (eligible[a] && (best < 0 || probs[a]! > probs[best]!)) best = a
    const tie = heuristic >= 0 && eligible[heuristic] === true && best !== heuristic && probs[best]! - probs[heuristic]! < this.p.margin
    return { probs, scores, confident: !tie }
  }

  value(x: Float32Array): number {
    return this.critic.forward(x)[0]!
  }

  private update(batch: readonly Sample[]): void {
    const returns = batch.map((s) => s.reward + (!s.done && s.next ? this.p.discount * this.value(s.next) : 0))
    const adv = batch.map((s, i) => returns[i]! - this.value(s.x))
    const mean = adv.reduce((a, b) => a + b, 0) / adv.length
    const sd = Math.sqrt(adv.reduce((a, b) => a + (b - mean) ** 2, 0) / adv.length) || 1
    const norm = adv.map((a) => (a - mean) / sd)
    const mb = Math.max(1, this.p.batch_size)
    let loss = 0
    for (let e = 0; e < EPOCHS; e++) {
      const order = batch.map((_, i) => i)
      for (let i = order.length - 1; i > 0; i--) {
        const j = this.rng.int(i + 1)
        ;[order[i], order[j]] = [order[j]!, order[i]!]
      }
      for (let start = 0; start < order.length; start += mb) {
        const idx = order.slice(start, start + mb)
        for (const i of idx) {
          const s = batch[i]!
          const a = s.action
          const A = norm[i]!
          const eligible = s.eligible.length ? s.eligible : eligibleOf(s.x)
          loss += this.actor.accumulate(s.x, (logits, d) => {
            const pi = this.softmax(logits, eligible, this.probs)
            const ratio = pi[a]! / Math.max(1e-6, s.propensity)
            const clipped = (A >= 0 && ratio > 1 + CLIP) || (A < 0 && ratio < 1 - CLIP)
            let h = 0
            for (let k = 0; k < ACTIONS; k++) if (pi[k]! > 0) h -= pi[k]! * Math.log(pi[k]!)
            for (let k = 0; k < ACTIONS; k++) {
              if (!eligible[k]) continue
              const dlogp = (k === a ? 1 : 0) - pi[k]!
              const surrogate = clipped ? 0 : A * ratio * dlogp
              const dEntropy = pi[k]! > 0 ? -pi[k]! * (Math.log(pi[k]!) + h) : 0
              d[k] = -(surrogate + ENTROPY * dEntropy) // minimise the negative objective
            }
            return -(Math.min(ratio * A, Math.max(1 - CLIP, Math.min(1 + CLIP, ratio)) * A) + ENTROPY * h)
          })
          this.critic.accumulate(s.x, (v, d) => {
            const err = v[0]! - returns[i]!
            d[0] = err
            return 0.5 * err * err
          })
        }
        this.actor.step(this.p.network_learning_rate, idx.length)
        this.critic.step(this.p.network_learning_rate, idx.length)
      }
    }
    this.loss = loss / (EPOCHS * batch.length)
  }

  observe(s: Sample): void {
    this.buffer.push(s)
    this.updates++
    if (this.buffer.length >= Math.max(8, this.p.batch_size)) {
      this.update(this.buffer)
      this.buffer = []
    }
  }

  async train(samples: readonly Sample[]): Promise<void> {
    this.reset()
    // Passes over the whole log until about 200 gradient steps were taken: the ratio to the logged
    // propensity (not to the previous pass) keeps each action's probability within the clip of it.
    const chunk = Math.max(8, this.p.batch_size) * 8
    const stepsPerPass = Math.max(1, EPOCHS * Math.ceil(samples.length / Math.max(1, this.p.batch_size)))
    const passes = samples.length === 0 ? 0 : Math.min(20, Math.max(1, Math.ceil(200 / stepsPerPass)))
    for (let pass = 0; pass < passes; pass++) {
      for (let i = 0; i < samples.length; i += chunk) {
        this.update(samples.slice(i, i + chunk))
        await breathe()
      }
    }
    this.updates = samples.length
  }

  save(): Blob {
    return { meta: { actor: this.actor.sizes, critic: this.critic.sizes, updates: this.updates }, arrays: [...this.actor.arrays(), ...this.critic.arrays()] }
  }

  load(b: Blob): void {
    this.reset()
    const n = this.actor.arrays().length
    this.actor.load(b.arrays.slice(0, n) as Float32Array[])
    this.critic.load(b.arrays.slice(n) as Float32Array[])
    this.updates = Number(b.meta.updates ?? 0)
  }
}
