import { cosine, type Embedder, type EmbedderHealth, type EmbeddingKind, type EmbeddingProvider } from "./types"

// `cca embeddings check`: embed a few texts with the configured provider and
// say what came back, so a provider set-up (a model that loads, a server that
// answers with vectors of the configured size) can be checked before the
// daemon relies on it. The first call includes the model's load or the
// first connection; the second shows the steady cost.

export type EmbeddingCheck = {
  provider: EmbeddingProvider
  model: string
  kind: EmbeddingKind
  dimensions: number
  texts: number
  firstMs: number
  againMs: number
  /** Cosine of each text to the first one. */
  similarityToFirst: number[]
  health: EmbedderHealth
}

export const SAMPLE_TEXTS = [
  "Retry the flaky network call with exponential backoff",
  "When a remote request fails now and then, try it again after growing delays",
  "Render the login form with the user's saved email address",
]

export async function checkEmbedder(e: Embedder, texts: readonly string[] = SAMPLE_TEXTS): Promise<EmbeddingCheck> {
  let t0 = performance.now()
  const vectors = await e.embed(texts)
  const firstMs = performance.now() - t0
  t0 = performance.now()
  await e.embed(texts)
  const againMs = performance.now() - t0
  return {
    provider: e.provider,
    model: e.model,
    kind: e.kind,
    dimensions: e.dimensions,
    texts: texts.length,
    firstMs: Math.round(firstMs * 10) / 10,
    againMs: Math.round(againMs * 10) / 10,
    similarityToFirst: vectors.map((v) => Math.round(cosine(vectors[0]!, v) * 1000) / 1000),
    health: e.health(),
  }
}
