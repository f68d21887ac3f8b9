// bun run bench codeindex: index throughput on real code nobody here wrote
// (npm packages in node_modules plus Python's standard library), re-index
// after one file changes, search latency, memory. PGlite in memory.
// `quality`: MRR@10 / R@10 against plain BM25 (_codeindex-quality.ts);
// `speed`: the rest, search at >= 100k chunks. No argument: both.
import { mkdtemp, rm, cp, appendFile } from "node:fs/promises"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { CodeIndex, type Job } from "../../src/codeindex/service"
import { queryTerms } from "../../src/codeindex/text"
import { createHashEmbedder } from "../../src/embeddings/hash"
import { openStore } from "../../src/store/store"
import { quality } from "./_codeindex-quality"
import { fmt, stats } from "./_lib"

const PACKAGES = ["elysia", "zod", "valibot", "postgres", "ioredis", "@electric-sql/pglite", "typescript/lib", "express", "ajv", "dockerode", "docker-modem", "protobufjs", "qs", "body-parser", "debug"]
const mode = process.argv[2] ?? "all"
/** The machine's load average (1, 5, 15 min) when a figure was measured: printed with every speed figure. */
const load = () => `[load ${loadavg().map((x) => x.toFixed(2)).join(" ")}]`
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
    // Vectors with the hash embedder: the local model would take hours for 40k chunks (see the README's scaling note).
    const code = new CodeIndex({ db: store.sql, config: { roots: [work], exclude: [], max_file_bytes: 1024 * 1024, chunk_lines: 60 }, embedder: createHashEmbedder({ dimensions: 256 }) })
    const job = (root = corpus): Job => ({ id: crypto.randomUUID(), root, status: "running", files_total: 0, files_done: 0, files_skipped: 0, files_unchanged: 0, files_removed: 0, chunks: 0, errors: [], rate_files_s: 0, eta_s: null, started_at: new Date().toISOString() })
    const rss0 = process.memoryUsage.rss()
    let peak = rss0
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 100)
    const t0 = performance.now()
    // Embedding waits until the job is over (it starts when the job ends), so this is indexing alone.
    const first = await code.run(job())
    const secs = (performance.now() - t0) / 1000
    clearInterval(sampler)
    console.log(`\nindex: ${first.files_total} files (${first.files_skipped} skipped), ${first.chunks} chunks in ${secs.toFixed(1)} s: ${(first.files_total / secs).toFixed(0)} files/s, ${(first.chunks / secs).toFixed(0)} chunks/s ${load()}`)
    console.log(`memory while indexing (this process: PGlite in-process, as in the daemon): RSS ${(rss0 / 2 ** 20).toFixed(0)} MiB before, peak ${(peak / 2 ** 20).toFixed(0)} MiB ${load()}`)
    const t2 = performance.now()
    await code.vectors!.idle()
    console.log(`background embedding (hash:fh1, 256-d) of ${first.chunks} chunks: ${((performance.now() - t2) / 1000).toFixed(1)} s ${load()}`)

    // Re-index with nothing changed, then after one change; the baseline is hashing every file (the old pass).
    const none = performance.now()
    await code.run(job())
    const noneMs = performance.now() - none
    await appendFile(join(corpus, "python", "textwrap.py"), "\ndef bench_added(x):\n    return x\n")
    const t1 = performance.now()
    const again = await code.run(job())
    const oneMs = performance.now() - t1
    await store.sql.exec("UPDATE codeindex_files SET mtime_ms = NULL")
    const t3 = performance.now()
    await code.run(job())
    const hashAll = performance.now() - t3
    console.log(`re-index: nothing changed ${fmt(noneMs)}; one file changed ${fmt(oneMs)} (${again.files_unchanged} unchanged by size+mtime; goal < 100 ms); baseline, hashing every file: ${fmt(hashAll)} ${load()}`)

    // Search at >= 100k chunks: the corpus's chunks (and vectors) copied under two more roots.
    const cols = "path, language, kind, name, parent, signature, doc, start_line, end_line, content, tsv"
    for (const copy of ["copy-1", "copy-2"]) {
      const r = join(work, copy)
      await store.sql.query(`INSERT INTO codeindex_files (root, path, language, status, reason, content_hash, size_bytes, chunk_count, parse_errors, mtime_ms) SELECT $2, path, language, status, reason, content_hash, size_bytes, chunk_count, parse_errors, mtime_ms FROM codeindex_files WHERE root = $1`, [corpus, r])
      await store.sql.query(`INSERT INTO codeindex_chunks (root, ${cols}) SELECT $2, ${cols} FROM codeindex_chunks WHERE root = $1 ORDER BY id`, [corpus, r])
      await store.sql.query(
        `INSERT INTO codeindex_vectors (chunk_id, embedding_model, embedding_dim, embedding)
         SELECT n.id, v.embedding_model, v.embedding_dim, v.embedding FROM codeindex_chunks o JOIN codeindex_vectors v ON v.chunk_id = o.id
         JOIN codeindex_chunks n ON n.root = $2 AND n.path = o.path AND n.start_line = o.start_line AND n.end_line = o.end_line AND n.kind = o.kind AND n.name IS NOT DISTINCT FROM o.name
         WHERE o.root = $1 ON CONFLICT DO NOTHING`,
        [corpus, r],
      )
    }
    await store.sql.exec("ANALYZE codeindex_chunks; ANALYZE codeindex_vectors")
    const [{ n }] = (await store.sql.query<{ n: number }>("SELECT count(*)::int AS n FROM codeindex_chunks")) as [{ n: number }]
    // A fresh service: cold statistics, as after a daemon start.
    const fresh = new CodeIndex({ db: store.sql, config: { roots: [work], exclude: [], max_file_bytes: 1024 * 1024, chunk_lines: 60 }, embedder: createHashEmbedder({ dimensions: 256 }) })
    const queries = ["parse a url into its parts", "retry a failed connection", "validate an email address", "read a config file", "compress data with gzip", "sort items by key", "escape html characters", "format a date as a string", "split text into words", "open a socket and listen", "decode base64 data", "walk a directory tree", "wait for a child process to exit", "convert a string to a number", "merge two sorted lists", "remove leading whitespace from lines", "hash a password", "find the longest common prefix", "serialize an object to json", "start an http server"]
    const time = async (mode: "lexical" | "hybrid") => {
      const cold: number[] = []
      const warm: number[] = []
      for (let round = 0; round < 4; round++) for (const q of queries) {
        const s = performance.now()
        await fresh.search({ query: q, limit: 10, mode })
        ;(round === 0 && mode === "lexical" ? cold : warm).push(performance.now() - s)
      }
      return { cold: stats(cold), warm: stats(warm) }
    }
    const lex = await time("lexical")
    const hyb = await time("hybrid")
    // The baseline: the previous ranking, ts_rank over every row the OR of the words matches.
    const base: number[] = []
    for (let round = 0; round < 2; round++) for (const q of queries) {
      const s = performance.now()
      await store.sql.query(`SELECT id, ts_rank('{0.2, 0.6, 0.5, 1.0}', tsv, q, 1) AS r FROM codeindex_chunks, to_tsquery('english', $1) q WHERE tsv @@ q ORDER BY r DESC LIMIT 50`, [queryTerms(q).join(" | ")])
      base.push(performance.now() - s)
    }
    const b = stats(base)
    console.log(`\nsearch at ${n} chunks (the corpus under 3 roots: copies of its rows), ${queries.length} queries (goal p95 < 50 ms):`)
    console.log(`  lexical, first round (document counts not cached yet): p50 ${fmt(lex.cold.p50)}, p95 ${fmt(lex.cold.p95)} ${load()}`)
    console.log(`  lexical, warm:                                         p50 ${fmt(lex.warm.p50)}, p95 ${fmt(lex.warm.p95)} ${load()}`)
    console.log(`  hybrid (hash vectors of the pool + the query's):       p50 ${fmt(hyb.warm.p50)}, p95 ${fmt(hyb.warm.p95)} ${load()}`)
    console.log(`  baseline, ts_rank over every OR match (the old query):  p50 ${fmt(b.p50)}, p95 ${fmt(b.p95)} ${load()}`)
    // Where a search's time goes (same run, same queries): a document count per word (what a cold word costs),
    // the candidate query with and without its all-words AND branch, and the per-candidate unnest for term frequencies.
    const parts = { df: [] as number[], and: [] as number[], or: [] as number[], tf: [] as number[] }
    for (const q of queries) {
      const lx = (await store.sql.query<{ l: string }>("SELECT DISTINCT to_tsquery('english', t)::text AS l FROM unnest($1::text[]) t", [queryTerms(q)])).map((r) => r.l).filter(Boolean)
      const dfs: number[] = []
      let s = performance.now()
      for (const l of lx) dfs.push((await store.sql.query<{ n: number }>("SELECT count(*)::int AS n FROM codeindex_chunks WHERE tsv @@ $1::tsquery", [l]))[0]!.n)
      parts.df.push(performance.now() - s)
      const byDf = lx.map((l, i) => ({ l, df: dfs[i]! })).filter((x) => x.df > 0).sort((a, b) => a.df - b.df)
      const gen: string[] = []
      let sum = 0
      for (const x of byDf) { if (gen.length && sum + x.df > 4000) break; gen.push(x.l); sum += x.df }
      const withAnd = [...gen, ...(gen.length < byDf.length ? [`(${byDf.map((x) => x.l).join(" & ")})`] : [])].join(" | ")
      const top = (tsq: string) => store.sql.query(`SELECT c.id FROM codeindex_chunks c, (SELECT $1::tsquery AS q) q WHERE c.tsv @@ q.q ORDER BY ts_rank('{0.2, 0.6, 0.5, 1.0}', c.tsv, q.q, 1) DESC LIMIT 50`, [tsq])
      s = performance.now(); await top(withAnd); parts.and.push(performance.now() - s)
      s = performance.now(); const ids = await top(gen.join(" | ") || withAnd); parts.or.push(performance.now() - s)
      s = performance.now()
      await store.sql.query(`SELECT (SELECT json_agg(json_build_array(u.lexeme, u.weights)) FROM unnest(c.tsv) u WHERE u.lexeme = ANY($2::text[])) FROM codeindex_chunks c WHERE c.id = ANY($1::bigint[])`, [ids.map((r: any) => r.id), byDf.map((x) => x.l.replace(/^'|'$/g, ""))])
      parts.tf.push(performance.now() - s)
    }
    console.log("  where the time goes (per query):")
    for (const [k, v] of Object.entries({ "document counts of its words (cold)": parts.df, "candidates, rare words OR all words (now)": parts.and, "candidates, rare words only": parts.or, "term frequencies of 50 candidates (unnest)": parts.tf })) {
      const st = stats(v)
      console.log(`    ${k.padEnd(44)} p50 ${fmt(st.p50)}, p95 ${fmt(st.p95)} ${load()}`)
    }
    await fresh.close()
    await code.close()
    await store.close()
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
