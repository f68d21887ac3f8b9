import { readFileSync } from "node:fs"
import { command } from "./common"
import { connect } from "../daemon/client"
import { UsageError } from "../errors"
import { writeFileAtomic } from "../files"
import type { PatternJson, ReembedJob } from "../memory/service"

// `cca memory ...`: each subcommand is one call of /api/v1/memory (the daemon
// checks the input and names the bad field). export/import are JSONL, one
// pattern a line; import stores each line again (embedded by this daemon's
// model, near-duplicates merging).

type Hit = PatternJson & { similarity: number; score: number }

function int(name: string, v: unknown): number | undefined {
  if (v === undefined || v === "") return undefined
  const n = Number(v)
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number, not ${String(v)}`)
  return n
}

function line(p: PatternJson): string {
  return `${p.id}  ${p.kind.padEnd(14)} ${`${p.success_count}/${p.success_count + p.failure_count}`.padStart(6)}  ${p.stale ? "(stale) " : ""}${p.title}`
}

export const search = command({
  meta: { name: "search", description: "Patterns closest in meaning to a query" },
  args: {
    query: { type: "positional", description: "What you are looking for", required: true },
    limit: { type: "string", integer: true, description: "Most patterns (default 10)" },
    kind: { type: "string", description: "Only this kind (solution, error_recovery, refactoring, optimization, testing, reasoning)" },
    role: { type: "string", description: "Only patterns of this role" },
  },
  async run(ctx, args) {
    const client = await connect()
    const r = await client.post<{ patterns: Hit[]; model: string; search_type: string }>("/api/v1/memory/search", {
      query: String(args.query),
      limit: int("limit", args.limit),
      kind: args.kind || undefined,
      role: args.role || undefined,
    })
    ctx.emit("MemorySearch", r, (d) => (d.patterns.length ? d.patterns.map((p) => `${p.similarity.toFixed(3)}  ${line(p)}`).join("\n") : `no pattern is similar (${d.model})`))
  },
})

export const store = command({
  meta: { name: "store", description: "Store a pattern (a near-duplicate of its kind merges)" },
  args: {
    content: { type: "positional", description: "The strategy or pitfall", required: true },
    title: { type: "string", description: "A short title (default: the first line)" },
    kind: { type: "string", description: "solution (default), error_recovery, refactoring, optimization, testing, reasoning" },
    role: { type: "string", description: "The role it is for" },
  },
  async run(ctx, args) {
    const client = await connect()
    const p = await client.post<PatternJson & { created: boolean }>("/api/v1/memory/store", { content: String(args.content), title: args.title || undefined, kind: args.kind || undefined, role: args.role || undefined })
    ctx.emit("Pattern", p, (d) => `${d.id}${d.created ? "" : " (merged into an existing pattern)"}`)
  },
})

export const list = command({
  meta: { name: "list", description: "Patterns, newest first" },
  args: { limit: { type: "string", integer: true, description: "Most patterns (default 50)" }, kind: { type: "string", description: "Only this kind" } },
  async run(ctx, args) {
    const client = await connect()
    const r = await client.get<{ patterns: PatternJson[]; total: number }>("/api/v1/memory", { limit: int("limit", args.limit), kind: args.kind || undefined })
    ctx.emit("PatternList", r, (d) => (d.patterns.length ? `${d.patterns.map(line).join("\n")}\n(${d.patterns.length} of ${d.total})` : "no patterns yet"))
  },
})

export const show = command({
  meta: { name: "show", description: "One pattern" },
  args: { id: { type: "positional", description: "Pattern id", required: true } },
  async run(ctx, args) {
    const client = await connect()
    const p = await client.get<PatternJson>(`/api/v1/memory/${encodeURIComponent(String(args.id))}`)
    ctx.emit("Pattern", p, (d) =>
      [`${d.title}`, `id        ${d.id}`, `kind      ${d.kind}`, `role      ${d.role ?? "-"}`, `worked    ${d.success_count} of ${d.success_count + d.failure_count} uses`, `model     ${d.model ?? "-"}${d.stale ? " (stale: run cca memory reembed)" : ""}`, `sources   ${d.source_task_ids.join(", ") || "-"}`, "", d.content].join("\n"),
    )
  },
})

export const remove = command({
  meta: { name: "delete", description: "Delete a pattern" },
  args: { id: { type: "positional", description: "Pattern id", required: true } },
  async run(ctx, args) {
    const client = await connect()
    const res = await client.request("DELETE", `/api/v1/memory/${encodeURIComponent(String(args.id))}`)
    if (!res.ok) await client.json("DELETE", `/api/v1/memory/${encodeURIComponent(String(args.id))}`) // throws the daemon's error
    ctx.emit("PatternDeleted", { id: String(args.id) }, (d) => `deleted ${d.id}`)
  },
})

export const exportCmd = command({
  meta: { name: "export", description: "Every pattern as JSONL (to a file, or stdout)" },
  args: { out: { type: "string", description: "File to write (atomically); default stdout" } },
  async run(ctx, args) {
    const client = await connect()
    const all: PatternJson[] = []
    for (;;) {
      const r = await client.get<{ patterns: PatternJson[]; total: number }>("/api/v1/memory", { limit: 1000, offset: all.length })
      all.push(...r.patterns)
      if (r.patterns.length === 0 || all.length >= r.total) break
    }
    const text = all.map((p) => JSON.stringify(p)).join("\n") + (all.length ? "\n" : "")
    if (args.out) {
      writeFileAtomic(String(args.out), text, 0o600)
      ctx.emit("MemoryExport", { patterns: all.length, file: String(args.out) }, (d) => `${d.patterns} pattern(s) written to ${d.file}`)
    } else process.stdout.write(text)
  },
})

export const importCmd = command({
  meta: { name: "import", description: "Store the patterns of a JSONL file (from cca memory export)" },
  args: { file: { type: "positional", description: "JSONL file", required: true } },
  async run(ctx, args) {
    const client = await connect()
    const lines = readFileSync(String(args.file), "utf8").split("\n").filter((l) => l.trim())
    let created = 0
    let merged = 0
    for (const [i, l] of lines.entries()) {
      let p: Partial<PatternJson>
      try {
        p = JSON.parse(l)
      } catch {
        throw new UsageError(`${String(args.file)}:${i + 1}: not JSON`, { hint: "one pattern per line, as cca memory export writes them" })
      }
      const r = await client.post<{ created: boolean }>("/api/v1/memory/store", { content: p.content, title: p.title, description: p.description, kind: p.kind, role: p.role ?? undefined, metadata: p.metadata, source_task_ids: p.source_task_ids })
      if (r.created) created++
      else merged++
    }
    ctx.emit("MemoryImport", { created, merged }, (d) => `${d.created} pattern(s) stored, ${d.merged} merged into existing ones`)
  },
})

export const reembed = command({
  meta: { name: "reembed", description: "Re-embed stale patterns (another model's vectors, or none) with the current model, showing progress" },
  async run(ctx) {
    const client = await connect()
    let job = await client.post<ReembedJob>("/api/v1/memory/reembed")
    while (job.status === "running") {
      if (!ctx.json) process.stderr.write(`\rre-embedding with ${job.model}: ${job.done}/${job.total}`)
      await Bun.sleep(250)
      job = await client.get<ReembedJob>(`/api/v1/memory/reembed/${job.id}`)
    }
    if (!ctx.json) process.stderr.write("\n")
    if (job.status === "failed") throw new UsageError(`reembed failed: ${job.error}`, { hint: "check the embedding provider with `cca embeddings check`" })
    ctx.emit("ReembedJob", job, (d) => `${d.done} pattern(s) re-embedded with ${d.model}`)
  },
})
