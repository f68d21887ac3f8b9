// bun run bench codeindex: index throughput on real code nobody here wrote
// (npm packages in node_modules plus Python's standard library), re-index
// after one file changes, search latency, memory. PGlite in memory.
// Not yet: quality (MRR@10 / R@10 against plain BM25 on a written query set)
// and search at >= 100k chunks; see src/codeindex/README.md.
import { mkdtemp, rm, cp, appendFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CodeIndex, type Job } from "../../src/codeindex/service"
import { openStore } from "../../src/store/store"
import { quality } from "./_codeindex-quality"
import { fmt, stats } from "./_lib"

const PACKAGES = ["elysia", "zod", "valibot", "postgres", "ioredis", "@electric-sql/pglite", "typescript/lib", "express", "ajv"]
const mode = process.argv[2] ?? "all"
if (!["all", "quality", "speed"].includes(mode)) {
  console.error("usage: bun run bench codeindex [quality|speed]")
  process.exit(2)
}
if (mode !== "speed") await quality()
if (mode !== "quality") await speed()

async function speed() {
const work = await mkdtemp(join(tmpdir(), "cca-bench-code-"))
try {
  const corpus = join(work, "corpus")
  for (const p of PACKAGES) await cp(join("node_modules", p), join(corpus, "npm", p.replaceAll("/", "_")), { recursive: true }).catch(() => {})
  await cp("/usr/lib/python3.11", join(corpus, "python"), { recursive: true, filter: (s) => !s.includes("site-packages") && !s.includes("__pycache__") })
  const store = await openStore({ dataDir: "memory" })
  const code = new CodeIndex({ db: store.sql, config: { roots: [work], exclude: [], max_file_bytes: 1024 * 1024, chunk_lines: 60 } })
  const job = (): Job => ({ id: crypto.randomUUID(), root: corpus, status: "running", files_total: 0, files_done: 0, files_skipped: 0, files_unchanged: 0, files_removed: 0, chunks: 0, errors: [], rate_files_s: 0, eta_s: null, started_at: new Date().toISOString() })
  let peak = 0
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100)
  const t0 = performance.now()
  const first = await code.run(job())
  const secs = (performance.now() - t0) / 1000
  clearInterval(sampler)
  console.log(`index: ${first.files_total} files (${first.files_skipped} skipped), ${first.chunks} chunks in ${secs.toFixed(1)} s: ${(first.files_total / secs).toFixed(0)} files/s, ${(first.chunks / secs).toFixed(0)} chunks/s; peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`)
  await appendFile(join(corpus, "python", "textwrap.py"), "\ndef bench_added(x):\n    return x\n")
  const t1 = performance.now()
  const again = await code.run(job())
  console.log(`re-index after one change: ${fmt(performance.now() - t1)} (${again.files_unchanged} unchanged; listing and hashing every file included)`)
  const queries = ["parse a url into its parts", "retry a failed connection", "validate an email address", "read a config file", "compress data with gzip", "sort items by key", "escape html characters", "format a date as a string", "split text into words", "open a socket and listen"]
  const times: number[] = []
  for (let i = 0; i < 5; i++) for (const q of queries) {
    const s = performance.now()
    await code.search({ query: q, limit: 10 })
    times.push(performance.now() - s)
  }
  const st = stats(times)
  console.log(`search (${first.chunks} chunks, ${times.length} queries): p50 ${fmt(st.p50)}, p95 ${fmt(st.p95)}`)
  console.log("figures from a shared, busy machine: noisy")
  await store.close()
} finally {
  await rm(work, { recursive: true, force: true })
}
}
