import { Rng } from "./rng"

// A small multilayer perceptron on Float32Array with Adam: the Q-network of
// DQN and the actor and critic of PPO. Why written here: no small, kept JS
// neural-net library exists, and tfjs is about 15 MB for what is a few
// thousand weights. Hidden layers use ReLU (He-initialised from a seed), the
// output is linear. `forward` reuses its buffers (no allocation per
// prediction); `accumulate` runs one sample forward and back, adding to the
// gradients; `step` applies Adam to the summed gradients and clears them.

export type MlpShape = { sizes: readonly number[]; seed: number }

export class Mlp {
  readonly sizes: readonly number[]
  readonly w: Float32Array[] = []
  readonly b: Float32Array[] = []
  private readonly gw: Float32Array[] = []
  private readonly gb: Float32Array[] = []
  /** Activations per layer (index 0 = the input copy) and the backward deltas. */
  private readonly act: Float32Array[] = []
  private readonly delta: Float32Array[] = []
  private adam: Adam | null = null

  constructor(shape: MlpShape) {
    this.sizes = shape.sizes
    const rng = new Rng(shape.seed)
    for (let l = 0; l + 1 < shape.sizes.length; l++) {
      const n = shape.sizes[l]!
      const m = shape.sizes[l + 1]!
      const w = new Float32Array(n * m)
      const scale = Math.sqrt(2 / n) * (l + 2 === shape.sizes.length ? 0.5 : 1)
      for (let i = 0; i < w.length; i++) w[i] = rng.normal() * scale
      this.w.push(w)
      this.b.push(new Float32Array(m))
      this.gw.push(new Float32Array(n * m))
      this.gb.push(new Float32Array(m))
    }
    for (const s of shape.sizes) {
      this.act.push(new Float32Array(s))
      this.delta.push(new Float32Array(s))
    }
  }

  get inputSize(): number {
    return this.sizes[0]!
  }

  get outputSize(): number {
    return this.sizes.at(-1)!
  }

  /** The output for one input; the returned buffer is reused by the next call. */
  forward(x: ArrayLike<number>): Float32Array {
    const a0 = this.act[0]!
    for (let i = 0; i < a0.length; i++) a0[i] = x[i] ?? 0
    const last = this.w.length - 1
    for (let l = 0; l <= last; l++) {
      const inp = this.act[l]!
      const out = this.act[l + 1]!
      const w = this.w[l]!
      const b = this.b[l]!
      const n = inp.length
      for (let j = 0; j < out.length; j++) {
        let s = b[j]!
        const row = j * n
        for (let i = 0; i < n; i++) s += w[row + i]! * inp[i]!
        out[j] = l < last && s < 0 ? 0 : s
      }
    }
    return this.act[last + 1]!
  }

  /**
   * One sample forward and back: `grad` receives the output and writes
   * dLoss/dOutput into its second argument; the weight gradients add up
   * until `step`. Returns what `grad` returns (the sample's loss).
   */
  accumulate(x: ArrayLike<number>, grad: (out: Float32Array, dOut: Float32Array) => number): number {
    const out = this.forward(x)
    const last = this.w.length
    const dOut = this.delta[last]!
    dOut.fill(0)
    const loss = grad(out, dOut)
    for (let l = last - 1; l >= 0; l--) {
      const inp = this.act[l]!
      const d = this.delta[l + 1]!
      const w = this.w[l]!
      const gw = this.gw[l]!
      const gb = this.gb[l]!
      const n = inp.length
      const dIn = this.delta[l]!
      if (l > 0) dIn.fill(0)
      for (let j = 0; j < d.length; j++) {
        const dj = d[j]!
        if (dj === 0) continue
        gb[j]! += dj
        const row = j * n
        for (let i = 0; i < n; i++) {
          gw[row + i]! += dj * inp[i]!
          if (l > 0) dIn[i]! += dj * w[row + i]!
        }
      }
      if (l > 0) for (let i = 0; i < n; i++) if (inp[i]! <= 0) dIn[i] = 0 // ReLU'
    }
    return loss
  }

  /** Apply Adam to the gradients summed since the last step (divided by `count`), then clear them. */
  step(lr: number, count: number, clip = 5): void {
    this.adam ??= new Adam(this.w, this.b)
    this.adam.step(this.w, this.b, this.gw, this.gb, lr, 1 / Math.max(1, count), clip)
    for (const g of this.gw) g.fill(0)
    for (const g of this.gb) g.fill(0)
  }

  /** Copy another network's weights (DQN's target network). */
  copyFrom(o: Mlp): void {
    o.w.forEach((w, l) => this.w[l]!.set(w))
    o.b.forEach((b, l) => this.b[l]!.set(b))
  }

  /** Weights and biases, layer by layer, for persistence. */
  arrays(): Float32Array[] {
    return this.w.flatMap((w, l) => [w, this.b[l]!])
  }

  load(arrays: readonly Float32Array[]): void {
    if (arrays.length !== this.w.length * 2) throw new Error(`expected ${this.w.length * 2} arrays of weights, got ${arrays.length}`)
    this.w.forEach((w, l) => {
      const a = arrays[2 * l]!
      const bb = arrays[2 * l + 1]!
      if (a.length !== w.length || bb.length !== this.b[l]!.length) throw new Error(`layer ${l}: weights of another shape`)
      w.set(a)
      this.b[l]!.set(bb)
    })
    this.adam = null
  }
}

/** Adam (Kingma & Ba) with global-norm gradient clipping. */
class Adam {
  private readonly mw: Float32Array[]
  private readonly vw: Float32Array[]
  private readonly mb: Float32Array[]
  private readonly vb: Float32Array[]
  private t = 0

  constructor(w: Float32Array[], b: Float32Array[]) {
    this.mw = w.map((x) => new Float32Array(x.length))
    this.vw = w.map((x) => new Float32Array(x.length))
    this.mb = b.map((x) => new Float32Array(x.length))
    this.vb = b.map((x) => new Float32Array(x.length))
  }

  step(w: Float32Array[], b: Float32Array[], gw: Float32Array[], gb: Float32Array[], lr: number, scale: number, clip: number): void {
    let norm = 0
    for (const g of [...gw, ...gb]) for (let i = 0; i < g.length; i++) norm += (g[i]! * scale) ** 2
    norm = Math.sqrt(norm)
    const s = norm > clip ? (scale * clip) / norm : scale
    this.t++
    const b1 = 0.9
    const b2 = 0.999
    const c1 = 1 - b1 ** this.t
    const c2 = 1 - b2 ** this.t
    const update = (p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array) => {
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]! * s
        m[i] = b1 * m[i]! + (1 - b1) * gi
        v[i] = b2 * v[i]! + (1 - b2) * gi * gi
        p[i]! -= (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + 1e-8)
      }
    }
    w.forEach((p, l) => update(p, gw[l]!, this.mw[l]!, this.vw[l]!))
    b.forEach((p, l) => update(p, gb[l]!, this.mb[l]!, this.vb[l]!))
  }
}
