import { command } from "./common"
import { connect } from "../daemon/client"
import type { CompressResult } from "../tokens/compress"
import { compressLine } from "../tokens/format"
import { readInput } from "./tokens-input"

export default command({
  meta: { name: "compress", description: "Compress a text; prints it (the saving per strategy goes to stderr, or into --json)" },
  args: {
    file: { type: "positional", description: "The file (default or `-`: stdin)", required: false },
    strategies: { type: "string", description: "Comma-separated: deduplicate, code_comments, whitespace, summarize, history" },
    target: { type: "string", description: "Share of tokens to remove, 0-0.95" },
    budget: { type: "string", description: "Tokens the result must fit in" },
    "keep-doc-comments": { type: "boolean", description: "Keep /** */ and /// comments" },
    kind: { type: "string", description: "Treat the whole text as code, prose, json or logs" },
  },
  async run(ctx, args) {
    const { content, path } = await readInput(args.file)
    const body: Record<string, unknown> = { content }
    if (path) body.path = path
    if (args.kind) body.kind = args.kind
    if (args.strategies) body.strategies = String(args.strategies).split(",").map((s) => s.trim()).filter(Boolean)
    if (args.target !== undefined) body.target_reduction = Number(args.target)
    if (args.budget !== undefined) body.budget_tokens = Number(args.budget)
    if (args["keep-doc-comments"]) body.keep_doc_comments = true
    const client = await connect()
    const r = await client.post<CompressResult>("/api/v1/tokens/compress", body)
    ctx.emit("TokenCompression", r, (d) => {
      process.stderr.write(`${compressLine(d)}\n`)
      return d.content
    })
  },
})
