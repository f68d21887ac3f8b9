import { createRemoteEmbedder, joinUrl, nomicPrefix } from "./remote"
import type { Embedder } from "./types"

// The `ollama` provider: POST /api/embed with a batch in `input`
// (https://github.com/ollama/ollama/blob/main/docs/api.md#generate-embeddings);
// the answer's `embeddings` are in input order. `truncate: true` lets the
// server cut what exceeds the model's context instead of refusing it.

export const OLLAMA_URL = "http://127.0.0.1:11434"
export const OLLAMA_MODEL = "nomic-embed-text"

/** Sizes of common Ollama embedding models, so `dimensions = 0` is right for them. */
const KNOWN: Record<string, number> = { "nomic-embed-text": 768, "mxbai-embed-large": 1024, "all-minilm": 384, "snowflake-arctic-embed": 1024, "bge-m3": 1024, "bge-large": 1024 }

export type OllamaOptions = { url?: string; model?: string; dimensions?: number; batchSize?: number; maxChars?: number; timeoutMs?: number }

export function ollamaDimensions(model: string): number | undefined {
  return KNOWN[model.replace(/:.*$/, "")]
}

export function createOllamaEmbedder(o: OllamaOptions = {}): Embedder {
  const model = o.model || OLLAMA_MODEL
  return createRemoteEmbedder({
    provider: "ollama",
    what: "ollama",
    model,
    dimensions: o.dimensions || ollamaDimensions(model) || 768,
    endpoint: joinUrl(o.url || OLLAMA_URL, "/api/embed"),
    headers: () => ({}),
    body: (input) => ({ model, input, truncate: true }),
    vectors: (a) => (a as { embeddings?: unknown }).embeddings,
    hintFor: (status, message) => (status === 404 && /not found/i.test(message) ? `pull the model first: \`ollama pull ${model}\`, or set [embeddings] model` : undefined),
    batchSize: o.batchSize ?? 32,
    maxChars: o.maxChars ?? 8000,
    timeoutMs: o.timeoutMs ?? 30_000,
    prefix: nomicPrefix(model),
  })
}
