import { CONTENT_KINDS, sections, type ContentKind, type Section } from "./kinds"
import type { LanguageName } from "../treesitter/grammars"

// Counting before a send. No client tokenizer is exact for Claude 3 and later;
// the truth is the usage Claude Code reports for each turn. So the estimate is
// a chars-per-token rate per content kind, calibrated per model from this
// daemon's own recorded pairs of (prompt, reported input tokens), with the
// fixed part of every request (Claude Code's system prompt, tool definitions,
// the role prompt) fitted as an overhead per role.
//
// "Characters" are effective characters: a run of spaces or tabs counts once
// (BPE vocabularies hold whole runs of indentation as one token), and a
// character outside ASCII counts twice (it is several UTF-8 bytes, and
// BPE splits those finer). One pass over the char codes: ~1 ms per MB.

export type Rates = Record<ContentKind, number>

/** Priors in characters per token, before any recorded usage (the legacy Claude vocabulary and o200k both land near these on such text). */
export const DEFAULT_CHARS_PER_TOKEN: Rates = { prose: 4.0, code: 3.3, json: 2.9, logs: 3.1 }

export type EstimatorError = {
  /** Median of |estimate - reported| / reported over the turns measured. */
  median: number
  p90: number
  samples: number
  /** true: measured on the newest quarter of the pairs, fitted on the rest; false: in-sample (too few pairs to hold any out). */
  heldOut: boolean
}

export type Calibration = {
  model: string
  charsPerToken: Rates
  /** Tokens every request carries besides the prompt, per role ("*": any other role). */
  overhead: Record<string, number>
  /** Recorded pairs it was fitted on (0: the priors). */
  samples: number
  error: EstimatorError | null
  calibratedAt: string | null
}

export function defaultCalibration(model = "default"): Calibration {
  return { model, charsPerToken: { ...DEFAULT_CHARS_PER_TOKEN }, overhead: { "*": 0 }, samples: 0, error: null, calibratedAt: null }
}

/** Effective characters of text[from, to) (see above). */
export function effectiveChars(text: string, from = 0, to = text.length): number {
  let n = 0
  let space = false
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i)
    if (c === 32 || c === 9) {
      if (!space) n++
      space = true
      continue
    }
    space = false
    n += c < 128 ? 1 : c >= 0xdc00 && c <= 0xdfff ? 0 : 2
  }
  return n
}

export type Hint = { kind?: ContentKind; language?: LanguageName; path?: string }

/** Effective characters per kind in a text. */
export function charsByKind(text: string, hint: Hint = {}): Rates {
  const out: Rates = { prose: 0, code: 0, json: 0, logs: 0 }
  for (const s of sections(text, hint)) out[s.kind] += effectiveChars(text, s.start, s.end) + (s.fence ? s.fence.open.length + s.fence.close.length : 0)
  return out
}

export class Estimator {
  constructor(readonly calibration: Calibration = defaultCalibration()) {}

  /** Tokens of a text alone (no request overhead). */
  count(text: string, hint: Hint = {}): number {
    if (text.length === 0) return 0
    if (hint.kind) return Math.ceil(effectiveChars(text) / this.calibration.charsPerToken[hint.kind])
    return this.fromChars(charsByKind(text))
  }

  countSection(s: Section, text: string): number {
    return Math.ceil(effectiveChars(text, s.start, s.end) / this.calibration.charsPerToken[s.kind])
  }

  fromChars(chars: Rates): number {
    let t = 0
    for (const k of CONTENT_KINDS) t += chars[k] / this.calibration.charsPerToken[k]
    return Math.ceil(t)
  }

  /** The role's request overhead (Claude Code's own system prompt and tools), as fitted. */
  overhead(role?: string | null): number {
    const o = this.calibration.overhead
    return Math.round((role ? o[role] : undefined) ?? o["*"] ?? 0)
  }

  /** Input tokens of a whole request: the prompt plus the role's overhead. */
  request(text: string, role?: string | null, hint: Hint = {}): number {
    return this.count(text, hint) + this.overhead(role)
  }
}

// ---- calibration ----

export type Pair = {
  role: string | null
  /** Effective characters per kind of the prompt that was sent. */
  chars: Rates
  /** Reported input tokens of the turn: input + cache reads + cache writes. */
  reported: number
}

const MIN_CPT = 1.5
const MAX_CPT = 8

/** Solve A x = b (small, dense) by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length
  const m = a.map((row, i) => [...row, b[i]!])
  for (let c = 0; c < n; c++) {
    let p = c
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r
    ;[m[c], m[p]] = [m[p]!, m[c]!]
    const d = m[c]![c]!
    if (Math.abs(d) < 1e-12) continue
    for (let r = 0; r < n; r++) {
      if (r === c) continue
      const f = m[r]![c]! / d
      if (f !== 0) for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!
    }
  }
  return m.map((row, i) => (Math.abs(row[i]!) < 1e-12 ? 0 : row[n]! / row[i]!))
}

/**
 * Fit tokens = overhead[role] + Σ chars[kind] / cpt[kind] by least squares,
 * each rate pulled towards its prior (ridge, weighted by how much of that kind
 * the pairs hold), so a kind that was never seen keeps its prior and a
 * daemon with a handful of pairs is not thrown far off by them.
 */
export function fit(pairs: readonly Pair[], prior: Rates = DEFAULT_CHARS_PER_TOKEN, lambda = 0.05): Pick<Calibration, "charsPerToken" | "overhead"> {
  const roles = [...new Set(pairs.map((p) => p.role ?? "*"))]
  const K = CONTENT_KINDS.length
  const n = K + roles.length
  const A = Array.from({ length: n }, () => new Array<number>(n).fill(0))
  const b = new Array<number>(n).fill(0)
  for (const p of pairs) {
    const x = new Array<number>(n).fill(0)
    CONTENT_KINDS.forEach((k, i) => (x[i] = p.chars[k]))
    x[K + roles.indexOf(p.role ?? "*")] = 1
    for (let i = 0; i < n; i++) {
      if (x[i] === 0) continue
      b[i]! += x[i]! * p.reported
      for (let j = 0; j < n; j++) A[i]![j]! += x[i]! * x[j]!
    }
  }
  CONTENT_KINDS.forEach((k, i) => {
    const weight = lambda * Math.max(A[i]![i]!, 1)
    A[i]![i]! += weight
    b[i]! += weight / prior[k]
  })
  for (let r = K; r < n; r++) A[r]![r]! += 1e-6 // a role with no pairs: overhead 0, not a singular matrix
  const x = solve(A, b)
  const charsPerToken = {} as Rates
  CONTENT_KINDS.forEach((k, i) => {
    const perChar = x[i]!
    charsPerToken[k] = perChar > 0 ? Math.min(MAX_CPT, Math.max(MIN_CPT, 1 / perChar)) : prior[k]
  })
  // Overheads again with the clamped rates: the median residual per role (robust to a few odd turns).
  const overhead: Record<string, number> = {}
  const est = new Estimator({ ...defaultCalibration(), charsPerToken })
  const all: number[] = []
  for (const role of roles) {
    const res = pairs.filter((p) => (p.role ?? "*") === role).map((p) => p.reported - est.fromChars(p.chars))
    overhead[role] = Math.max(0, median(res))
    all.push(...res)
  }
  overhead["*"] = Math.max(0, all.length ? median(all) : 0)
  return { charsPerToken, overhead }
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}

/** Relative errors of a calibration on pairs. */
export function errors(cal: Pick<Calibration, "charsPerToken" | "overhead">, pairs: readonly Pair[]): number[] {
  const est = new Estimator({ ...defaultCalibration(), ...cal })
  return pairs.filter((p) => p.reported > 0).map((p) => Math.abs(est.fromChars(p.chars) + est.overhead(p.role) - p.reported) / p.reported)
}

/**
 * Calibrate from pairs in the order they were recorded (oldest first): with 8
 * or more, fit on the older three quarters and measure the error on the
 * newest quarter (held out), then refit on all of them for use.
 */
export function calibrate(model: string, pairs: readonly Pair[], now = new Date()): Calibration {
  if (pairs.length === 0) return defaultCalibration(model)
  let error: EstimatorError
  if (pairs.length >= 8) {
    const cut = Math.floor(pairs.length * 0.75)
    const e = errors(fit(pairs.slice(0, cut)), pairs.slice(cut))
    error = { median: median(e), p90: quantile(e, 0.9), samples: e.length, heldOut: true }
  }
  const all = fit(pairs)
  if (pairs.length < 8) {
    const e = errors(all, pairs)
    error = { median: median(e), p90: quantile(e, 0.9), samples: e.length, heldOut: false }
  }
  return { model, ...all, samples: pairs.length, error: error!, calibratedAt: now.toISOString() }
}
