import { ACTIONS, TEXT_DIMS, TEXT_OFFSET } from "../orchestrator/features"

// A kernel memory of rewards over the task's text, next to LinUCB's linear
// model. Problem: a linear model per role over a 32-d text vector needs many
// rewards before it separates task kinds whose descriptions differ in
// several ways (measured in the simulator: 0.82 of the oracle after 300
// episodes, while a plain nearest neighbour names a task's family right 96%
// of the time). Fix: remember the text vectors seen (anchors: near-identical
// texts share one) with each role's discounted reward count and sum there;
// a new task's local estimate for a role is the kernel-weighted mean of the
// rewards at nearby anchors, shrunk toward the prior (linucb.ts). So a
// role's estimate for a kind of task moves with the first few rewards of
// that kind; where nothing similar was seen the prior and the linear model
// speak. Memory is bounded (KERNEL.anchors; the least recently seen anchor
// is reused). Evidence is discounted in time (KERNEL.discount), for drift.

export const KERNEL = {
  /** Most anchors kept. */
  anchors: 128,
  /** Texts at least this similar (cosine) share an anchor. */
  merge: 0.97,
  /** Weight of an anchor: exp(sharpness · (cosine − 1)), so a twin counts 1 and a text at cosine 0.7 about 0.09. */
  sharpness: 8,
  /** Anchors weighing less than this are skipped. */
  floor: 0.02,
  /** Pseudo-counts of the prior in a role's local mean. */
  shrink: 1,
  /** The linear estimate counts as precision / width² rewards when pooled with the local mean. */
  precision: 0.3,
  /** Extra optimism for a role little tried on texts like this: exploration · bonus / sqrt(count + shrink). */
  bonus: 0.5,
  /** Every reward discounts all remembered evidence by this (memory of ~1/(1 − discount) rewards), so a role that degrades, and roles not tried since, are looked at again. */
  discount: 0.998,
}
/** Below this cosine an anchor's weight is under the floor (no exp needed). */
const MIN_SIM = 1 + Math.log(KERNEL.floor) / KERNEL.sharpness

const T = TEXT_DIMS
const A = ACTIONS

export class TextKernel {
  private vec = new Float32Array(KERNEL.anchors * T)
  private n = new Float64Array(KERNEL.anchors * A)
  private s = new Float64Array(KERNEL.anchors * A)
  private seen = new Float64Array(KERNEL.anchors)
  private readonly q = new Float64Array(T)
  private size = 0
  private clock = 0
  /** Kernel weight (count) and weighted reward sum per role for the last `weigh`ed text. */
  readonly count = new Float64Array(A)
  readonly sum = new Float64Array(A)

  /** The text slots of a state, or null when they are empty (another text space). */
  private static norm(x: ArrayLike<number>): number {
    let q = 0
    for (let i = 0; i < T; i++) q += (x[TEXT_OFFSET + i] ?? 0) ** 2
    return Math.sqrt(q)
  }

  private sim(x: ArrayLike<number>, k: number, norm: number): number {
    let d = 0
    const o = k * T
    for (let i = 0; i < T; i++) d += this.vec[o + i]! * (x[TEXT_OFFSET + i] ?? 0)
    return d / norm
  }

  /** Fill `count` and `sum` for this state's text; false when it has no text. */
  weigh(x: ArrayLike<number>): boolean {
    this.count.fill(0)
    this.sum.fill(0)
    const norm = TextKernel.norm(x)
    if (norm < 1e-6 || this.size === 0) return false
    const q = this.q
    for (let i = 0; i < T; i++) q[i] = (x[TEXT_OFFSET + i] ?? 0) / norm
    const vec = this.vec
    for (let k = 0; k < this.size; k++) {
      let sim = 0
      const o = k * T
      for (let i = 0; i < T; i++) sim += vec[o + i]! * q[i]!
      if (sim < MIN_SIM) continue
      const w = Math.exp(KERNEL.sharpness * (sim - 1))
      const p = k * A
      for (let a = 0; a < A; a++) {
        this.count[a]! += w * this.n[p + a]!
        this.sum[a]! += w * this.s[p + a]!
      }
    }
    return true
  }

  /** Learn one reward of `action` on this text (all older evidence discounted by KERNEL.discount). */
  observe(x: ArrayLike<number>, action: number, reward: number): void {
    const norm = TextKernel.norm(x)
    if (norm < 1e-6) return
    let best = -1
    let bestSim = -Infinity
    for (let k = 0; k < this.size; k++) {
      const s = this.sim(x, k, norm)
      if (s > bestSim) (bestSim = s), (best = k)
    }
    if (best < 0 || bestSim < KERNEL.merge) best = this.place(x, norm)
    this.seen[best] = ++this.clock
    const f = KERNEL.discount
    for (let i = 0; i < this.size * A; i++) {
      this.n[i]! *= f
      this.s[i]! *= f
    }
    this.n[best * A + action]! += 1
    this.s[best * A + action]! += reward
  }

  private place(x: ArrayLike<number>, norm: number): number {
    let k = this.size
    if (k < KERNEL.anchors) this.size++
    else {
      k = 0
      for (let j = 1; j < this.size; j++) if (this.seen[j]! < this.seen[k]!) k = j
    }
    for (let i = 0; i < T; i++) this.vec[k * T + i] = (x[TEXT_OFFSET + i] ?? 0) / norm
    this.n.fill(0, k * A, (k + 1) * A)
    this.s.fill(0, k * A, (k + 1) * A)
    return k
  }

  reset(): void {
    this.size = 0
    this.clock = 0
    this.vec.fill(0)
    this.n.fill(0)
    this.s.fill(0)
    this.seen.fill(0)
  }

  get anchors(): number {
    return this.size
  }

  save(): { meta: { anchors: number; clock: number }; arrays: [Float32Array, Float64Array, Float64Array, Float64Array] } {
    return { meta: { anchors: this.size, clock: this.clock }, arrays: [this.vec.slice(), this.n.slice(), this.s.slice(), this.seen.slice()] }
  }

  load(meta: { anchors: number; clock: number }, arrays: readonly ArrayLike<number>[]): void {
    this.reset()
    const [vec, n, s, seen] = arrays
    if (!vec || !n || !s || !seen || vec.length !== this.vec.length || n.length !== this.n.length) throw new Error("a text kernel of another shape")
    this.vec.set(vec)
    this.n.set(n)
    this.s.set(s)
    this.seen.set(seen)
    this.size = Math.min(KERNEL.anchors, meta.anchors)
    this.clock = meta.clock
  }
}
