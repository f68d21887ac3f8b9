// One interface in front of every embedding model: the memory
// (ReasoningBank), the code index and the learned router's task features
// all call `embed`. Every vector is stored with `space` (model id and
// dimension); vectors of two spaces are never compared.
//
// A provider that fails throws a named error (UnavailableError for a model
// server that is down, with a hint); it never falls back to another provider
// or to text matching, and its health says what happened.

import type { VectorSpace } from "../store/vectors"

export type EmbeddingProvider = "local" | "hash" | "ollama" | "openai"

/** Whether nearness of vectors means nearness of meaning, or of shared words. */
export type EmbeddingKind = "semantic" | "lexical"

export type EmbedderHealth = {
  /** `unused`: never called (a lazily loaded model is not loaded yet). */
  state: "unused" | "ok" | "down"
  provider: EmbeddingProvider
  model: string
  dimensions: number
  kind: EmbeddingKind
  /** The last failure's message while down. */
  error?: string
  /** When state last changed (ISO time). */
  since: string
  /** Duration of the last successful call. */
  lastLatencyMs?: number
  /** local: how long the model took to load (on the first embed). */
  loadMs?: number
  /** ollama/openai: the server's address. */
  url?: string
}

export type EmbedOptions = {
  signal?: AbortSignal
  /**
   * What the texts are: a search query or a stored document. Models that
   * embed the two differently (nomic-embed-text's `search_query:` prefix) use it.
   */
  purpose?: "query" | "document"
}

export interface Embedder {
  readonly provider: EmbeddingProvider
  /** The id stored with each vector, unique across providers: `hash:fh1`, `local:use-lite`, `ollama:nomic-embed-text`. */
  readonly model: string
  readonly dimensions: number
  readonly kind: EmbeddingKind
  /** `{ model, dimensions }`: what a stored vector records. */
  readonly space: VectorSpace
  /** One unit-length vector per text, in order. */
  embed(texts: readonly string[], opts?: EmbedOptions): Promise<Float32Array[]>
  health(): EmbedderHealth
  close?(): Promise<void>
}

/** Cosine similarity of two vectors of one space (unit vectors: their dot product). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`vectors of two dimensions (${a.length} and ${b.length}) cannot be compared`)
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    dot += x * y
    na += x * x
    nb += y * y
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb)
}

/** Scale `v` to unit length in place (a zero vector stays zero). */
export function normalize(v: Float32Array): Float32Array {
  let n = 0
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!
  if (n > 0) {
    const s = 1 / Math.sqrt(n)
    for (let i = 0; i < v.length; i++) v[i] = v[i]! * s
  }
  return v
}
