// A seeded pseudo-random generator (mulberry32): the learned router, the
// networks' initial weights and the simulator draw from it, so a run with
// the same seed makes the same choices and the same figures.

export class Rng {
  private s: number
  private spare: number | null = null

  constructor(seed = 1) {
    this.s = seed >>> 0 || 0x9e3779b9
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** Standard normal (Box-Muller, caching the second value). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare
      this.spare = null
      return v
    }
    let u = 0
    while (u === 0) u = this.next()
    const r = Math.sqrt(-2 * Math.log(u))
    const a = 2 * Math.PI * this.next()
    this.spare = r * Math.sin(a)
    return r * Math.cos(a)
  }

  /** An index drawn from probabilities that sum to 1. */
  pick(probs: ArrayLike<number>): number {
    let u = this.next()
    let last = -1
    for (let i = 0; i < probs.length; i++) {
      if (probs[i]! <= 0) continue
      last = i
      u -= probs[i]!
      if (u < 0) return i
    }
    return last
  }

  /** The generator's state (persisted with a model so a reloaded router goes on the same stream). */
  get state(): number {
    return this.s
  }

  set state(s: number) {
    this.s = s >>> 0
    this.spare = null
  }
}
