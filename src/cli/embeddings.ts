import { command, group } from "./common"
import { loadConfig } from "../config/load"
import { keyValues } from "../output"

// `cca embeddings check [TEXT...]`: the configured [embeddings] provider,
// tried for real (the model loaded, or the server asked), in this process.

const check = command({
  meta: { name: "check", description: "Embed a few texts with the configured provider and show what came back" },
  variadic: true,
  args: { texts: { type: "positional", required: false, description: "Texts to embed (default: three samples)" } },
  async run(ctx, args) {
    const { config } = await loadConfig()
    const { createEmbedder } = await import("../embeddings/embedder")
    const { checkEmbedder } = await import("../embeddings/check")
    const texts = (args._ as string[]).length > 0 ? (args._ as string[]) : undefined
    const embedder = createEmbedder(config.embeddings)
    ctx.defer(() => embedder.close?.())
    const r = await checkEmbedder(embedder, texts)
    ctx.emit("EmbeddingCheck", r, (d) =>
      keyValues([
        ["provider", `${d.provider} (${d.kind})`],
        ["model", `${d.model}, ${d.dimensions}-d`],
        ["first call", `${d.firstMs} ms for ${d.texts} texts${d.health.loadMs !== undefined ? ` (model load ${Math.round(d.health.loadMs)} ms)` : ""}`],
        ["again", `${d.againMs} ms`],
        ["cosine to the first", d.similarityToFirst.join(", ")],
      ]),
    )
  },
})

export default group({ name: "embeddings", description: "The embedding provider of [embeddings]" }, {
  check: async () => check,
})
