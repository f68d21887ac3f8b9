// Dense symmetric positive-definite inverse by Cholesky (LinUCB's A⁻¹), in
// place on Float64Array row-major d×d matrices. d is about 50 here, so this
// is ~0.1 ms; it runs once per role per update, lazily.

export function invertSpd(a: Float64Array, d: number, out: Float64Array, l: Float64Array = new Float64Array(d * d)): Float64Array {
  l.fill(0)
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!
      for (let k = 0; k < j; k++) s -= l[i * d + k]! * l[j * d + k]!
      if (i === j) l[i * d + i] = Math.sqrt(Math.max(s, 1e-12))
      else l[i * d + j] = s / l[j * d + j]!
    }
  }
  // inverse of L (lower triangular), stored in out's lower half, then out = L⁻ᵀ L⁻¹
  const li = new Float64Array(d * d)
  for (let i = 0; i < d; i++) {
    li[i * d + i] = 1 / l[i * d + i]!
    for (let j = 0; j < i; j++) {
      let s = 0
      for (let k = j; k < i; k++) s += l[i * d + k]! * li[k * d + j]!
      li[i * d + j] = -s / l[i * d + i]!
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0
      for (let k = i; k < d; k++) s += li[k * d + i]! * li[k * d + j]!
      out[i * d + j] = s
      out[j * d + i] = s
    }
  }
  return out
}

/** A linear arm's estimate: mean zᵀA⁻¹b and confidence width sqrt(zᵀA⁻¹z), from A⁻¹ (d×d, row-major) and b. */
export function linearEstimate(inv: Float64Array, b: Float64Array, z: ArrayLike<number>, d: number): { mean: number; width: number } {
  let mean = 0
  let w = 0
  for (let i = 0; i < d; i++) {
    let s = 0
    let t = 0
    for (let j = 0; j < d; j++) {
      s += inv[i * d + j]! * z[j]!
      t += inv[i * d + j]! * b[j]!
    }
    w += z[i]! * s
    mean += z[i]! * t
  }
  return { mean, width: Math.sqrt(Math.max(0, w)) }
}

/** One reward `target` at input z into a ridge regression with forgetting λ: A ← λ(A − I) + I + zzᵀ, b ← λb + target·z (the prior I is never forgotten). */
export function forgetfulUpdate(a: Float64Array, b: Float64Array, z: ArrayLike<number>, target: number, d: number, lam: number): void {
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      const eye = i === j ? 1 : 0
      a[i * d + j] = lam * (a[i * d + j]! - eye) + eye + z[i]! * z[j]!
    }
    b[i] = lam * b[i]! + target * z[i]!
  }
}
