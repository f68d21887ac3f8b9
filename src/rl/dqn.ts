import { ACTIONS } from "../orchestrator/features"
import { argmax, breathe, NETWORK_INPUT } from "./inputs"
import { Mlp } from "./mlp"
import { Rng } from "./rng"
import type { Blob, Evaluation, Params, Policy, Sample } from "./types"

// DQN (Mnih et al. 2015) at the size of this problem: an MLP Q-network over
// the whole state (89 → 32 → 32 → 6 actions, ineligible actions masked), a
// replay buffer (the last 5,000 decisions), a target network synced every
// 50 steps, Huber loss on the action taken, and ε starting at 0.3 and
// decaying to `epsilon` over the first few hundred rewards. One training
// step of `batch_size` per reward once the buffer holds a batch.

const HIDDEN = 32
const CAPACITY = 5000
const SYNC_EVERY = 50
const START_EPSILON = 0.3

export class Dqn implements Policy {
  readonly algorithm = "dqn" as const
  private net!: Mlp
  private target!: Mlp
  private replay: Sample[] = []
  private at = 0
  private steps = 0
  private rng!: Rng
  updates = 0
  loss: number | null = null

  constructor(
    private p: Params,
    private readonly seed = 7,
  ) {
    this.reset()
  }

  private reset(): void {
    const sizes = [NETWORK_INPUT, HIDDEN, HIDDEN, ACTIONS]
    this.net = new Mlp({ sizes, seed: this.seed })
    this.target = new Mlp({ sizes, seed: this.seed })
    this.rng = new Rng(this.seed + 1)
    this.replay = []
    this.at = 0
    this.steps = 0
    this.updates = 0
    this.loss = null
  }

  setParams(p: Params): void {
    this.p = p
  }

  epsilon(): number {
    return Math.min(0.5, Math.max(this.p.epsilon, START_EPSILON * 0.99 ** this.updates))
  }

  evaluate(x: Float32Array, eligible: readonly boolean[], heuristic: number): Evaluation {
    const q = this.net.forward(x)
    const scores = new Float64Array(ACTIONS).fill(-Infinity)
    for (let a = 0; a < ACTIONS; a++) if (eligible[a]) scores[a] = q[a]!
    const best = argmax(scores, eligible)
    const probs = new Float64Array(ACTIONS)
    if (best >= 0) probs[best] = 1
    const tie = heuristic >= 0 && eligible[heuristic] === true && best !== heuristic && scores[best]! - scores[heuristic]! < this.p.margin
    return { probs, scores, confident: !tie }
  }

  private push(s: Sample): void {
    if (this.replay.length < CAPACITY) this.replay.push(s)
    else this.replay[this.at] = s
    this.at = (this.at + 1) % CAPACITY
  }

  /** One gradient step on a random minibatch; returns its mean loss. */
  trainStep(): number {
    const n = Math.min(this.p.batch_size, this.replay.length)
    let total = 0
    for (let k = 0; k < n; k++) {
      const s = this.replay[this.rng.int(this.replay.length)]!
      let y = s.reward
      if (!s.done && s.next) {
        const qn = this.target.forward(s.next)
        let best = -Infinity
        for (let a = 0; a < ACTIONS; a++) if (qn[a]! > best) best = qn[a]!
        if (Number.isFinite(best)) y += this.p.discount * best
      }
      total += this.net.accumulate(s.x, (out, d) => {
        const err = out[s.action]! - y
        d[s.action] = Math.max(-1, Math.min(1, err)) // Huber
        return Math.abs(err) <= 1 ? 0.5 * err * err : Math.abs(err) - 0.5
      })
    }
    this.net.step(this.p.network_learning_rate, n)
    if (++this.steps % SYNC_EVERY === 0) this.target.copyFrom(this.net)
    this.loss = total / Math.max(1, n)
    return this.loss
  }

  observe(s: Sample): void {
    this.push(s)
    this.updates++
    if (this.replay.length >= Math.min(this.p.batch_size, 8)) this.trainStep()
  }

  async train(samples: readonly Sample[]): Promise<void> {
    this.reset()
    for (const s of samples.slice(-CAPACITY)) this.push(s)
    this.updates = samples.length
    const steps = Math.min(3000, Math.max(200, Math.ceil((8 * this.replay.length) / Math.max(1, this.p.batch_size))))
    for (let i = 0; i < steps; i++) {
      this.trainStep()
      if (i % 50 === 49) await breathe()
    }
    this.target.copyFrom(this.net)
  }

  save(): Blob {
    return { meta: { sizes: this.net.sizes, updates: this.updates, steps: this.steps }, arrays: this.net.arrays() }
  }

  load(b: Blob): void {
    this.reset()
    this.net.load(b.arrays as Float32Array[])
    this.target.copyFrom(this.net)
    this.updates = Number(b.meta.updates ?? 0)
    this.steps = Number(b.meta.steps ?? 0)
  }
}
