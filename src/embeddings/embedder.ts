import type { EmbeddingsSection } from "../config/schema"
import { createHashEmbedder } from "./hash"
import type { Embedder } from "./types"

// The embedder cca.toml's [embeddings] names. Providers that need a model or
// a server load nothing here: they load (or connect) on their first embed,
// so a daemon that never uses memory, code search or learned routing pays
// nothing at start.

export function createEmbedder(section: EmbeddingsSection): Embedder {
  switch (section.provider) {
    case "hash":
      return createHashEmbedder({ dimensions: section.dimensions })
    default:
      throw new Error(`embedding provider ${section.provider} is not built yet`)
  }
}
