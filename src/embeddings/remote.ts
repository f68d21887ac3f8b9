import { batches, clip, HealthTracker } from "./health"
import { badAnswer, checkVectors, postJson } from "./http"
import { normalize, type EmbedOptions, type Embedder, type EmbedderHealth, type EmbeddingProvider } from "./types"

// What ollama and openai share: batches of `batch_size` texts per request, in
// order, each cut to `max_chars`; every answer checked (count, numbers, size)
// and scaled to unit length. The server is only contacted on the first embed.

export type RemoteSpec = {
  provider: Extract<EmbeddingProvider, "ollama" | "openai">
  what: string
  /** The model name as the server knows it. */
  model: string
  dimensions: number
  endpoint: string
  headers(): Record<string, string>
  body(texts: string[]): unknown
  /** The rows of vectors in the answer (order as sent); throws an Error saying what is wrong with it. */
  vectors(answer: unknown): unknown
  hintFor(status: number, message: string): string | undefined
  batchSize: number
  maxChars: number
  timeoutMs: number
  /** Text put before each input by purpose (nomic-embed-text's task prefixes). */
  prefix?: { query: string; document: string }
}

export function createRemoteEmbedder(s: RemoteSpec): Embedder {
  const model = `${s.provider}:${s.model}`
  const tracker = new HealthTracker({ provider: s.provider, model, dimensions: s.dimensions, kind: "semantic" }, () => ({ url: s.endpoint }))
  return {
    provider: s.provider,
    model,
    dimensions: s.dimensions,
    kind: "semantic",
    space: { model, dimensions: s.dimensions },
    async embed(texts: readonly string[], opts?: EmbedOptions): Promise<Float32Array[]> {
      opts?.signal?.throwIfAborted()
      if (texts.length === 0) return []
      const t0 = performance.now()
      const pre = s.prefix ? (opts?.purpose === "query" ? s.prefix.query : s.prefix.document) : ""
      const out: Float32Array[] = []
      for (const batch of batches(clip(texts, s.maxChars), s.batchSize)) {
        const input = pre ? batch.map((t) => pre + t) : batch
        const answer = await postJson({ what: s.what, url: s.endpoint, body: s.body(input), headers: s.headers(), timeoutMs: s.timeoutMs, signal: opts?.signal, tracker, hintFor: s.hintFor })
        const at = { what: s.what, url: s.endpoint, tracker }
        let raw: unknown
        try {
          raw = s.vectors(answer)
        } catch (e) {
          throw badAnswer(at, (e as Error).message)
        }
        const rows = checkVectors(at, raw, batch.length, s.dimensions)
        for (const r of rows) out.push(normalize(Float32Array.from(r)))
      }
      tracker.ok(performance.now() - t0)
      return out
    },
    health(): EmbedderHealth {
      return tracker.health()
    },
  }
}

/** nomic-embed-text is trained with task prefixes; without them its retrieval is worse. */
export function nomicPrefix(model: string): RemoteSpec["prefix"] {
  return /^nomic-embed-text/.test(model.replace(/^.*\//, "")) ? { query: "search_query: ", document: "search_document: " } : undefined
}

/** `base` + `path`, without doubling a slash or a `/v1` the user already wrote. */
export function joinUrl(base: string, path: string): string {
  const b = base.replace(/\/+$/, "")
  if (b.endsWith(path)) return b
  const v1 = path.startsWith("/v1/") && b.endsWith("/v1")
  return v1 ? b + path.slice(3) : b + path
}
