import { connect } from "../daemon/client"
import { UsageError } from "../errors"
import { command } from "./common"

// `cca search-code QUERY`: indexed code by what it does or its name.

type Result = { path: string; name: string | null; kind: string; signature: string; start_line: number; end_line: number; score: number; root: string }

export default command({
  meta: { name: "search-code", description: "Search indexed code: chunks with file, lines and score" },
  args: {
    query: { type: "positional", description: "What the code does, or a name", required: true },
    limit: { type: "string", integer: true, description: "Most results (default 10)" },
    language: { type: "string", description: "Only this language (python, typescript, ...)" },
    kind: { type: "string", description: "Only this kind (function, method, class, interface, type, module, block)" },
    path: { type: "string", description: "Only paths starting with this" },
    root: { type: "string", description: "Only this indexed root" },
  },
  async run(ctx, args) {
    const limit = args.limit ? Number(args.limit) : undefined
    if (limit !== undefined && !Number.isInteger(limit)) throw new UsageError(`--limit must be a whole number, not ${String(args.limit)}`)
    const client = await connect()
    const r = await client.post<{ results: Result[] }>("/api/v1/code/search", { query: String(args.query), limit, language: args.language || undefined, kind: args.kind || undefined, path: args.path || undefined, root: args.root || undefined })
    ctx.emit("CodeSearch", r, (d) => (d.results.length ? d.results.map((x) => `${x.score.toFixed(3)}  ${x.path}:${x.start_line}-${x.end_line}  ${x.kind} ${x.name ?? ""}\n       ${x.signature}`).join("\n") : "no indexed code matches"))
  },
})
