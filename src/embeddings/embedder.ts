import type { EmbeddingsSection } from "../config/schema"
import { ConfigError } from "../errors"
import { createHashEmbedder } from "./hash"
import { createLocalEmbedder, LOCAL_DIMENSIONS } from "./local"
import { createOllamaEmbedder } from "./ollama"
import { createOpenAiEmbedder } from "./openai"
import type { Embedder } from "./types"

// The embedder cca.toml's [embeddings] names. Providers that need a model or
// a server load nothing here: they load (or connect) on their first embed,
// so a daemon that never uses memory, code search or learned routing pays
// nothing at start. (local.ts imports no model code: the worker does.)

export function createEmbedder(section: EmbeddingsSection): Embedder {
  const common = { batchSize: section.batch_size, maxChars: section.max_chars }
  const remote = { ...common, url: section.url, model: section.model, dimensions: section.dimensions, timeoutMs: section.timeout_s * 1000 }
  switch (section.provider) {
    case "local":
      if (section.dimensions !== 0 && section.dimensions !== LOCAL_DIMENSIONS) {
        throw new ConfigError(`embeddings.dimensions = ${section.dimensions}, but the local model (USE-lite) makes ${LOCAL_DIMENSIONS}-d vectors`, { hint: "set [embeddings] dimensions = 0 (or 512)" })
      }
      return createLocalEmbedder(common)
    case "hash":
      return createHashEmbedder({ dimensions: section.dimensions || 768 })
    case "ollama":
      return createOllamaEmbedder(remote)
    case "openai":
      return createOpenAiEmbedder({ ...remote, apiKeyEnv: section.api_key_env })
  }
}
