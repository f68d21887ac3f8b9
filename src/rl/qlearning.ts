import { ACTIONS } from "../orchestrator/features"
import { REWARD } from "../orchestrator/reward"
import { argmax, breathe, eligibleOf, greedy, tableKey } from "./inputs"
import type { Blob, Evaluation, Params, Policy, Sample } from "./types"

// Tabular Q-learning over a discretised state (inputs.ts tableKey: the
// content role and the strongest text bucket). Values start optimistic (the
// best reward there is), so each role is tried once in a state before its
// value is believed; the step size is 1/visits until that falls below
// learning_rate, then learning_rate (a running mean that keeps adapting).
// A requeued attempt's target adds γ · the best value of the state after.
// A state never seen is unsure: the heuristic decides there.

const OPTIMISTIC = REWARD.success + REWARD.underBudget + REWARD.fasterThanBaseline

export class QLearning implements Policy {
  readonly algorithm = "q_learning" as const
  private q = new Map<string, { q: Float64Array; visits: Uint32Array }>()
  updates = 0
  loss: number | null = null

  constructor(private p: Params) {}

  setParams(p: Params): void {
    this.p = p
  }

  epsilon(): number {
    return this.p.epsilon
  }

  private row(key: string) {
    let r = this.q.get(key)
    if (!r) {
      r = { q: new Float64Array(ACTIONS).fill(OPTIMISTIC), visits: new Uint32Array(ACTIONS) }
      this.q.set(key, r)
    }
    return r
  }

  get states(): number {
    return this.q.size
  }

  evaluate(x: Float32Array, eligible: readonly boolean[], heuristic: number): Evaluation {
    const r = this.q.get(tableKey(x))
    const scores = r ? Float64Array.from(r.q) : new Float64Array(ACTIONS).fill(OPTIMISTIC)
    for (let a = 0; a < ACTIONS; a++) if (!eligible[a]) scores[a] = -Infinity
    const probs = greedy(scores, eligible)
    const best = argmax(scores, eligible)
    const tie = heuristic >= 0 && eligible[heuristic] === true && best !== heuristic && scores[best]! - scores[heuristic]! < this.p.margin
    return { probs, scores, confident: r !== undefined && !tie }
  }

  observe(s: Sample): void {
    const r = this.row(tableKey(s.x))
    let target = s.reward
    if (!s.done && s.next) {
      const nr = this.q.get(tableKey(s.next))
      if (nr) {
        const best = argmax(nr.q, eligibleOf(s.next))
        if (best >= 0) target += this.p.discount * nr.q[best]!
      }
    }
    const a = s.action
    r.visits[a]!++
    const step = Math.max(this.p.learning_rate, 1 / r.visits[a]!)
    const err = target - r.q[a]!
    r.q[a]! += step * err
    this.loss = err * err
    this.updates++
  }

  async train(samples: readonly Sample[]): Promise<void> {
    this.q.clear()
    this.updates = 0
    let k = 0
    for (const s of samples) {
      this.observe(s)
      if (++k % 2000 === 0) await breathe()
    }
  }

  save(): Blob {
    const keys = [...this.q.keys()]
    const q = new Float64Array(keys.length * ACTIONS)
    const v = new Float64Array(keys.length * ACTIONS)
    keys.forEach((k, i) => {
      const r = this.q.get(k)!
      q.set(r.q, i * ACTIONS)
      v.set(Float64Array.from(r.visits), i * ACTIONS)
    })
    return { meta: { actions: ACTIONS, keys, updates: this.updates }, arrays: [q, v] }
  }

  load(b: Blob): void {
    if (b.meta.actions !== ACTIONS) throw new Error("a Q-table of another action space")
    const keys = b.meta.keys as string[]
    const [q, v] = b.arrays
    this.q.clear()
    keys.forEach((k, i) => this.q.set(k, { q: Float64Array.from(q!.subarray(i * ACTIONS, (i + 1) * ACTIONS)), visits: Uint32Array.from(v!.subarray(i * ACTIONS, (i + 1) * ACTIONS)) }))
    this.updates = Number(b.meta.updates ?? 0)
  }
}
