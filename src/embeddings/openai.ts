import { envVar } from "../flag"
import { createRemoteEmbedder, joinUrl, nomicPrefix } from "./remote"
import type { Embedder } from "./types"

// The `openai` provider: any server with OpenAI's POST /v1/embeddings (OpenAI,
// vLLM, llama.cpp's server, LM Studio, Hugging Face TEI). The answer's `data`
// carries an `index` per input; vectors are put back in that order. The API
// key is read from the environment variable [embeddings] api_key_env names,
// at each request (never stored in config, never logged); an unset variable
// sends no Authorization header, as local servers want.

export const OPENAI_URL = "https://api.openai.com"
export const OPENAI_MODEL = "text-embedding-3-small"

const KNOWN: Record<string, number> = { "text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536 }

export type OpenAiOptions = { url?: string; model?: string; dimensions?: number; apiKeyEnv?: string; batchSize?: number; maxChars?: number; timeoutMs?: number }

export function createOpenAiEmbedder(o: OpenAiOptions = {}): Embedder {
  const model = o.model || OPENAI_MODEL
  const endpoint = joinUrl(o.url || OPENAI_URL, "/v1/embeddings")
  const what = "the OpenAI-compatible server"
  const keyEnv = o.apiKeyEnv ?? "OPENAI_API_KEY"
  return createRemoteEmbedder({
    provider: "openai",
    what,
    model,
    dimensions: o.dimensions || KNOWN[model] || 1536,
    endpoint,
    headers: (): Record<string, string> => {
      const key = keyEnv ? envVar(keyEnv) : undefined
      return key ? { authorization: `Bearer ${key}` } : {}
    },
    // `dimensions` only when set: most compatible servers refuse it for models that cannot shorten their vectors.
    body: (input) => ({ model, input, encoding_format: "float", ...(o.dimensions ? { dimensions: o.dimensions } : {}) }),
    vectors: (a) => {
      const data = (a as { data?: unknown }).data
      if (!Array.isArray(data)) return data
      const rows: unknown[] = new Array(data.length)
      for (const [i, d] of data.entries()) {
        const item = d as { index?: unknown; embedding?: unknown }
        const at = typeof item.index === "number" ? item.index : i
        if (at < 0 || at >= data.length || rows[at] !== undefined) throw new Error(`embedding indexes are not 0..${data.length - 1}`)
        rows[at] = item.embedding
      }
      return rows
    },
    hintFor: (status) =>
      status === 401 || status === 403
        ? keyEnv
          ? `set the API key in the environment variable ${keyEnv} (named by [embeddings] api_key_env) for the daemon`
          : "name the environment variable that holds the API key in [embeddings] api_key_env"
        : status === 404
          ? `check [embeddings] url (requests go to ${endpoint}) and model (${model})`
          : undefined,
    batchSize: o.batchSize ?? 32,
    maxChars: o.maxChars ?? 8000,
    timeoutMs: o.timeoutMs ?? 30_000,
    prefix: nomicPrefix(model),
  })
}
