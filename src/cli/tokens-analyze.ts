import { command } from "./common"
import { connect } from "../daemon/client"
import type { Analysis } from "../tokens/analyze"
import { analysisText } from "../tokens/format"
import { readInput } from "./tokens-input"

export default command({
  meta: { name: "analyze", description: "Estimate a text's tokens, where they go, and what each compression strategy saves" },
  args: {
    file: { type: "positional", description: "The file (default or `-`: stdin)", required: false },
    kind: { type: "string", description: "Treat the whole text as code, prose, json or logs" },
  },
  async run(ctx, args) {
    const { content, path } = await readInput(args.file)
    const client = await connect()
    const a = await client.post<Analysis>("/api/v1/tokens/analyze", { content, ...(path ? { path } : {}), ...(args.kind ? { kind: args.kind } : {}) })
    ctx.emit("TokenAnalysis", a, analysisText)
  },
})
