// `bun run bench memory [--100k | --only-100k] [--vectors random,text] [--m 16] [--ef-construction 64]
//   [--no-quality] [--no-search] [--no-startup] [--no-loop] [--only-loop]`: the ReasoningBank's figures, side by side in one run.
//
// 1. Retrieval quality: scripts/bench/data/memory-paraphrases.tsv, 114 topics
//    each used once. The stored patterns are real text nobody here wrote (the
//    first paragraph of the docstrings of Python 3.11's stdlib); the queries
//    are paraphrases written for this set. A pattern is stored as the daemon
//    stores one (src/memory/service.ts: its "when to use" text embedded), all
//    114 are candidates for every query, and P@1 counts the query's own topic
//    ranked first. The lexical weight of the hybrid ranking is chosen on the
//    dev split (the first 50 topics); the figures are of the held-out split.
//    Providers: local (USE-lite), hash, and ollama against the scripted
//    Ollama-compatible server (whose vectors are hashed words: it measures the
//    protocol path, not a real nomic-embed-text).
// 2. Search: 512-d vectors in PGlite, the space's partial HNSW index (m and
//    ef_construction as given) next to an exact scan; p50/p95 and HNSW's
//    recall@10 against exact at several ef_search; EXPLAIN shows the index is
//    used. Two sets: random unit vectors (HNSW's worst case: no structure)
//    and hash vectors of real text (distinct lines of Python 3.11's stdlib;
//    the queries are lines not in the table). 10k by default, 100k with --100k.
// 3. Throughput: texts per second of each provider.
// 4. The loop (scripts/bench/_memory-loop.ts, skipped with --no-loop): a pipeline
//    test with real claude agents and the scripted model, memory on and off.
// Figures from a crowded machine are noisy.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import os from "node:os"
import * as v from "valibot"
import { EmbeddingsSection } from "../../src/config/schema"
import { createEmbedder } from "../../src/embeddings/embedder"
import type { Embedder } from "../../src/embeddings/types"
import { MemoryService } from "../../src/memory/service"
import { PatternRepo } from "../../src/memory/repo"
import { migrate } from "../../src/store/migrate"
import { openPglite, type PgliteSql } from "../../src/store/pglite"
import { spacePredicate, vectorExpr, vectorLiteral } from "../../src/store/vectors"
import { hashEmbed } from "../../src/embeddings/hash"
import { startEmbeddingServer } from "../../test/support/embedding-server"
import { fmt, stats } from "./_lib"

const big = process.argv.includes("--100k")
const onlyLoop = process.argv.includes("--only-loop")
const noQuality = process.argv.includes("--no-quality")
const noStartup = process.argv.includes("--no-startup")

type Topic = { name: string; query: string; doc: string }

function loadTopics(): Topic[] {
  const rows = readFileSync(join(import.meta.dir, "data", "memory-paraphrases.tsv"), "utf8")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"))
    .map((l) => l.split("\t") as [string, string])
  const py = `
import importlib, inspect, json, sys
out = {}
for name in json.load(sys.stdin):
    parts = name.split(".")
    obj = None
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i])); rest = parts[i:]; break
        except Exception: continue
    for r in rest: obj = getattr(obj, r)
    doc = inspect.getdoc(obj) or ""
    out[name] = doc.split("\\n\\n")[0].replace("\\n", " ")[:400]
print(json.dumps(out))`
  const p = Bun.spawnSync(["python3.11", "-c", py], { stdin: Buffer.from(JSON.stringify(rows.map((r) => r[0]))) })
  if (p.exitCode !== 0) throw new Error(`python3.11 failed: ${p.stderr.toString()}`)
  const docs = JSON.parse(p.stdout.toString()) as Record<string, string>
  const topics = rows.map(([name, query]) => ({ name, query, doc: docs[name] ?? "" }))
  const empty = topics.filter((t) => !t.doc)
  if (empty.length) throw new Error(`no docstring for ${empty.map((t) => t.name).join(", ")}`)
  return topics
}

const embeddings = (o: Partial<v.InferInput<typeof EmbeddingsSection>>) => v.parse(EmbeddingsSection, o)

async function quality(embedder: Embedder, topics: Topic[]) {
  const db = await openPglite()
  await migrate(db)
  const base = new MemoryService({ db, embedder, vectors: { available: true, off: [], skipped: [] }, config: { merge_similarity: 1.01 } })
  const ids = new Map<string, string>()
  for (const t of topics) {
    const r = await base.store({ content: t.doc, title: t.doc.split(/[.:]/)[0]!.slice(0, 120), description: "", when: t.doc, kind: "solution" })
    ids.set(r.pattern.id, t.name)
  }
  const dev = topics.slice(0, 50)
  const held = topics.slice(50)
  const p1 = async (w: number, set: Topic[]) => {
    const svc = new MemoryService({ db, embedder, vectors: { available: true, off: [], skipped: [] }, config: { lexical_weight: w } })
    let hit = 0
    for (const t of set) if (ids.get((await svc.rank(t.query, 1))[0]?.pattern.id ?? "") === t.name) hit++
    return hit / set.length
  }
  const weights = [0, 0.15, 0.3, 0.4, 0.5, 0.6, 0.7, 0.85, 1]
  const devScores = [] as number[]
  for (const w of weights) devScores.push(await p1(w, dev))
  const best = weights[devScores.indexOf(Math.max(...devScores))]!
  const out = { dev: Object.fromEntries(weights.map((w, i) => [w, devScores[i]!])), weight: best, heldVector: await p1(0, held), heldHybrid: await p1(best, held), n: held.length }
  await db.close()
  return out
}

async function throughput(embedder: Embedder, texts: string[]) {
  await embedder.embed(texts.slice(0, 2))
  const t0 = performance.now()
  await embedder.embed(texts)
  return texts.length / ((performance.now() - t0) / 1000)
}

function randomUnit(d: number, seed: { s: number }): Float32Array {
  const v = new Float32Array(d)
  let n = 0
  for (let i = 0; i < d; i++) {
    seed.s = (seed.s * 1103515245 + 12345) % 2147483648
    const x = seed.s / 2147483648 - 0.5
    v[i] = x
    n += x * x
  }
  const k = 1 / Math.sqrt(n)
  for (let i = 0; i < d; i++) v[i] = v[i]! * k
  return v
}

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : dflt
}
const M = arg("--m", 16)
const EFC = arg("--ef-construction", 64)
const EFS = [40, 100, 200, 400]

/** Distinct lines of Python 3.11's stdlib sources (real text nobody here wrote), in a fixed order. */
function stdlibLines(n: number): string[] {
  const py = `
import glob, sys
seen = set(); out = []
for f in sorted(glob.glob('/usr/lib/python3.11/**/*.py', recursive=True)):
    try:
        for l in open(f, encoding='utf8'):
            l = l.strip()
            if len(l) > 25 and l not in seen: seen.add(l); out.append(l)
    except Exception: pass
sys.stdout.write("\\n".join(out))`
  const p = Bun.spawnSync(["python3.11", "-c", py])
  if (p.exitCode !== 0) throw new Error(`python3.11 failed: ${p.stderr.toString()}`)
  const lines = p.stdout.toString().split("\n")
  if (lines.length < n) throw new Error(`only ${lines.length} distinct stdlib lines, ${n} wanted`)
  // spread over the whole library (not the first files only), deterministically
  const step = lines.length / n
  return Array.from({ length: n }, (_, i) => lines[Math.floor(i * step)]!)
}

type VectorSet = { name: string; rows: (i: number) => Float32Array; queries: Float32Array[] }

function vectorSets(n: number, which: string[]): VectorSet[] {
  const sets: VectorSet[] = []
  if (which.includes("random")) {
    const seed = { s: 7 }
    const rows = Array.from({ length: n }, () => randomUnit(512, seed))
    sets.push({ name: "random unit vectors", rows: (i) => rows[i]!, queries: Array.from({ length: 100 }, () => randomUnit(512, seed)) })
  }
  if (which.includes("text")) {
    const lines = stdlibLines(n + 100)
    // every 1/(n/100)-th line is a query, the rest are rows: queries are real lines not in the table
    const qIdx = new Set(Array.from({ length: 100 }, (_, i) => Math.floor((i * (n + 100)) / 100) + 1))
    const rows: string[] = []
    const queries: string[] = []
    lines.forEach((l, i) => (qIdx.has(i) ? queries : rows).push(l))
    const rv = rows.slice(0, n).map((t) => hashEmbed(t, 512))
    sets.push({ name: "hash vectors of stdlib lines", rows: (i) => rv[i]!, queries: queries.slice(0, 100).map((t) => hashEmbed(t, 512)) })
  }
  return sets
}

function short(v: Float32Array): string {
  return `[${Array.from(v, (x) => (x === 0 ? "0" : x.toFixed(6))).join(",")}]`
}

const load = () => `load ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`
const strArg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1]! : dflt
}
/** Index storage to compare: `vector` (the product's index, float32) and `halfvec` (the same expression cast to halfvec: half the pages). */
const INDEXES = strArg("--index", "vector,halfvec").split(",")
/** shared_buffers settings to compare at query time (PGlite's default is 128MB). */
const BUFFERS = strArg("--shared-buffers", "128MB,1GB").split(",")
/** The built databases are kept here between runs (keyed by set, size, m, ef_construction): building 100k HNSW takes minutes. */
const CACHE = strArg("--cache", "/tmp/cca-bench-memory")
const EXACT_SQL_QUERIES = 10

/** The nearest 10 by cosine in plain JS over the stored (6-decimal) values: the ground truth of recall (the SQL exact scan is timed on a few queries and checked against it). */
function exactTop10(rows: Float32Array[], q: Float32Array): number[] {
  const best: { i: number; s: number }[] = []
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!
    let dot = 0
    for (let k = 0; k < r.length; k++) dot += r[k]! * q[k]!
    if (best.length < 10 || dot > best[best.length - 1]!.s) {
      best.push({ i, s: dot })
      best.sort((a, b) => b.s - a.s)
      if (best.length > 10) best.pop()
    }
  }
  return best.map((b) => b.i)
}

function rounded(v: Float32Array): Float32Array {
  const out = new Float32Array(v.length)
  let n = 0
  for (let i = 0; i < v.length; i++) {
    out[i] = Number(v[i]!.toFixed(6))
    n += out[i]! * out[i]!
  }
  const k = 1 / Math.sqrt(n)
  for (let i = 0; i < v.length; i++) out[i] = out[i]! * k
  return out
}

async function search(n: number, set: VectorSet, setKey: string) {
  const space = { model: "bench:vectors", dimensions: 512 }
  const dataDir = join(CACHE, `${setKey}-${n}`)
  const repoOf = (db: PgliteSql) => new PatternRepo(db, "hnsw", 1000, { m: M, efConstruction: EFC })
  let db = await openPglite({ dataDir })
  await migrate(db)
  let loadMs = 0
  const [have] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patterns WHERE ${spacePredicate(space)}`)
  if (Number(have!.n) !== n) {
    await db.exec(`DELETE FROM patterns`)
    const t0 = performance.now()
    for (let i = 0; i < n; i += 500) {
      const vals: string[] = []
      // 6 decimals: the literal of a dense random vector is then ~4.5 KB instead of ~9 KB (loading 100k took minutes), its neighbours unchanged to 1e-6
      for (let j = i; j < Math.min(n, i + 500); j++) vals.push(`('solution', 'p${j}', 'h${j}', '${short(set.rows(j))}'::vector, '${space.model}', 512)`)
      await db.exec(`INSERT INTO patterns (kind, content, content_hash, embedding, embedding_model, embedding_dim) VALUES ${vals.join(",")}`)
    }
    loadMs = performance.now() - t0
  }
  // the graph of 100k 512-d vectors needs ~250 MB to be built in memory (pgvector warns and slows down past maintenance_work_mem)
  await db.exec(`SET maintenance_work_mem = '1GB'`)
  const pred = spacePredicate(space)
  const idx = (kind: string) => `bench_${kind}_m${M}_efc${EFC}`
  const expr = (kind: string) => (kind === "halfvec" ? `(embedding::halfvec(512))` : vectorExpr(space))
  const builds: Record<string, number | "cached"> = {}
  for (const kind of INDEXES) {
    const [found] = await db.query(`SELECT 1 FROM pg_indexes WHERE indexname = $1`, [idx(kind)])
    if (found) {
      builds[kind] = "cached"
      continue
    }
    const t1 = performance.now()
    const ops = kind === "halfvec" ? "halfvec_cosine_ops" : "vector_cosine_ops"
    await db.exec(`CREATE INDEX ${idx(kind)} ON patterns USING hnsw (${expr(kind)} ${ops}) WITH (m = ${M}, ef_construction = ${EFC}) WHERE ${pred}`)
    builds[kind] = performance.now() - t1
  }
  // the product's own index (repo.ensureIndex) is not built here: the bench's `vector` index has the same expression and predicate
  await db.exec(`ANALYZE patterns`)
  await db.close()

  const ids = new Map<string, number>()
  const queries = set.queries
  const truthRows = Array.from({ length: n }, (_, i) => rounded(set.rows(i)))
  const truth = queries.map((q) => exactTop10(truthRows, rounded(q)))
  const recall = (got: number[][]) => {
    let found = 0
    for (let i = 0; i < queries.length; i++) found += got[i]!.filter((x) => truth[i]!.includes(x)).length
    return found / (queries.length * 10)
  }
  const out: {
    buffers: string
    plans: Record<string, string>
    exact: ReturnType<typeof stats>
    exactAgrees: number
    rows: { index: string; ef: number; sql: ReturnType<typeof stats>; call?: ReturnType<typeof stats>; recall: number; load: string }[]
    load: string
  }[] = []
  for (const buffers of BUFFERS) {
    db = await openPglite({ dataDir, settings: { shared_buffers: buffers } })
    const repo = repoOf(db)
    if (ids.size === 0) for (const r of await db.query<{ id: string; content: string }>(`SELECT id, content FROM patterns`)) ids.set(r.id, Number(r.content.slice(1)))
    const sqlFor = (kind: string) => `SELECT id FROM patterns WHERE ${pred} ORDER BY ${expr(kind)} <=> $1::${kind === "halfvec" ? "halfvec" : "vector"}(512) LIMIT 10`
    const plans: Record<string, string> = {}
    for (const kind of INDEXES)
      plans[kind] = await db.transaction(async (tx) => {
        await tx.exec(`SET LOCAL enable_seqscan = off; SET LOCAL hnsw.ef_search = 100`)
        return (await tx.query<Record<string, string>>(`EXPLAIN ${sqlFor(kind)}`, [vectorLiteral(queries[0]!)])).map((r) => Object.values(r)[0]).join(" | ")
      })
    // the SQL alone (one short transaction: SET LOCAL ef_search, the query), and for the product's index the whole repo.search call
    const sqlOnly = async (kind: string, o: { exact?: boolean; ef?: number }, qs: Float32Array[]) => {
      const ms: number[] = []
      const got: number[][] = []
      for (const q of qs) {
        const lit = vectorLiteral(q)
        const s = performance.now()
        const rows = await db.transaction(async (tx) => {
          await tx.exec(o.exact ? `SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off` : `SET LOCAL enable_seqscan = off; SET LOCAL hnsw.ef_search = ${o.ef}`)
          return tx.query<{ id: string }>(sqlFor(kind), [lit])
        })
        ms.push(performance.now() - s)
        got.push(rows.map((r) => ids.get(r.id)!))
      }
      return { st: stats(ms), got }
    }
    for (const q of queries.slice(0, 3)) await repo.search(space, q, 10, {}, { efSearch: 40 }) // warm the caches a little
    const exact = await sqlOnly("vector", { exact: true }, queries.slice(0, EXACT_SQL_QUERIES))
    let agree = 0
    exact.got.forEach((g, i) => (agree += g.filter((x) => truth[i]!.includes(x)).length))
    const res: (typeof out)[number] = { buffers, plans, exact: exact.st, exactAgrees: agree / (EXACT_SQL_QUERIES * 10), rows: [], load: load() }
    for (const kind of INDEXES)
      for (const ef of EFS) {
        const r = await sqlOnly(kind, { ef }, queries)
        let call: ReturnType<typeof stats> | undefined
        if (kind === "vector") {
          const ms: number[] = []
          for (const q of queries) {
            const s = performance.now()
            await repo.search(space, q, 10, {}, { efSearch: ef })
            ms.push(performance.now() - s)
          }
          call = stats(ms)
        }
        res.rows.push({ index: kind, ef, sql: r.st, call, recall: recall(r.got), load: load() })
      }
    out.push(res)
    await db.close()
  }
  return { n, loadMs, builds, out }
}

if (!onlyLoop && !noQuality) {
const topics = loadTopics()
console.log(`memory bench: ${topics.length} topics (dev 50, held-out ${topics.length - 50}); figures from a shared, busy machine are noisy\n`)
const srv = await startEmbeddingServer({ dimensions: 768 })
const providers: [string, Embedder][] = [
  ["local (USE-lite)", createEmbedder(embeddings({ provider: "local" }))],
  ["hash", createEmbedder(embeddings({ provider: "hash" }))],
  ["ollama (scripted server)", createEmbedder(embeddings({ provider: "ollama", url: srv.url }))],
]
console.log("retrieval, P@1 on the held-out split (lexical weight chosen on dev):")
console.log(`${"provider".padEnd(26)} ${"vector".padStart(7)} ${"hybrid".padStart(7)}  weight  dev P@1 by weight`)
for (const [name, e] of providers) {
  const q = await quality(e, topics)
  console.log(`${name.padEnd(26)} ${q.heldVector.toFixed(2).padStart(7)} ${q.heldHybrid.toFixed(2).padStart(7)}  ${String(q.weight).padStart(6)}  ${Object.entries(q.dev).map(([w, s]) => `${w}:${s.toFixed(2)}`).join(" ")}`)
}
console.log(`(goal: local P@1 >= 0.8; n = ${topics.length - 50} held-out queries)\n`)

console.log("throughput (texts/s, 200 texts in one call):")
const texts = Array.from({ length: 200 }, (_, i) => `${topics[i % topics.length]!.doc} (${i})`)
for (const [name, e] of providers) console.log(`  ${name.padEnd(26)} ${(await throughput(e, texts)).toFixed(0)}`)
console.log("")
for (const [, e] of providers) await e.close?.()
await srv.close()
}

if (!onlyLoop) {
const setsArg = process.argv.includes("--vectors") ? process.argv[process.argv.indexOf("--vectors") + 1]!.split(",") : ["random", "text"]
const sizes = process.argv.includes("--only-100k") ? [100_000] : big ? [10_000, 100_000] : [10_000]
for (const n of process.argv.includes("--no-search") ? [] : sizes) {
  for (const set of vectorSets(n, setsArg)) {
    const key = set.name.startsWith("random") ? "random" : "text"
    const s = await search(n, set, key)
    const built = Object.entries(s.builds).map(([k, ms]) => `${k} ${ms === "cached" ? "cached" : `${(ms / 1000).toFixed(1)} s`}`).join(", ")
    console.log(`search over ${n} patterns, ${set.name} (512-d, PGlite; load ${s.loadMs ? `${(s.loadMs / 1000).toFixed(1)} s` : "cached"}; HNSW m ${M} ef_construction ${EFC} build: ${built}; ${load()}):`)
    for (const b of s.out) {
      console.log(`  shared_buffers ${b.buffers}:`)
      for (const [k, p] of Object.entries(b.plans)) console.log(`    plan (${k}): ${p.replace(/\s+/g, " ").slice(0, 140)}`)
      console.log(`    exact scan (SQL, ${EXACT_SQL_QUERIES} queries)  p50 ${fmt(b.exact.p50)}  p95 ${fmt(b.exact.p95)}  top-10 agreement with the JS exact ${b.exactAgrees.toFixed(2)}  (${b.load})`)
      for (const r of b.rows)
        console.log(`    HNSW ${r.index.padEnd(7)} ef ${String(r.ef).padEnd(4)} SQL p50 ${fmt(r.sql.p50)} p95 ${fmt(r.sql.p95)}${r.call ? `  whole search() p50 ${fmt(r.call.p50)} p95 ${fmt(r.call.p95)}` : ""}  recall@10 ${r.recall.toFixed(3)}  (${r.load})`)
    }
  }
}
if (!big) console.log("(100k: run with --100k; goals p95 < 20 ms at 100k, recall@10 >= 0.95)")

}

if (!onlyLoop && !noStartup) {
  // Start-up with memory on and off (in-process daemons, PGlite in a temp dir; the embedder is loaded on first use, never at start).
  const { testDaemon } = await import("../../test/daemon/harness")
  const times: Record<string, number[]> = { off: [], on: [] }
  for (let i = 0; i < 6; i++) {
    for (const mode of ["off", "on"] as const) {
      const t0 = performance.now()
      const d = await testDaemon({ memory: { enabled: mode === "on" } })
      times[mode]!.push(performance.now() - t0)
      if (d.daemon.ctx.embedder.health().state !== "unused") throw new Error("the embedder was used at start")
      await d[Symbol.asyncDispose]()
    }
  }
  const st = (xs: number[]) => stats(xs.slice(1)) // the first of each is warm-up
  console.log(`\ndaemon start-up (in-process, PGlite, 5 runs each after a warm-up): memory off p50 ${fmt(st(times.off!).p50)}, memory on p50 ${fmt(st(times.on!).p50)}; the embedder stays unused`)
}

if (!process.argv.includes("--no-loop")) {
  const { memoryLoop } = await import("./_memory-loop")
  const { on, off } = await memoryLoop(50)
  console.log("\nthe loop (a pipeline test with the scripted model, not a claim about real models): 50 tasks, 5 families, real claude")
  for (const [name, r] of [["memory off", off], ["memory on", on]] as const) {
    console.log(`  ${name.padEnd(11)} solved ${r.solved}/${r.tasks} (${((100 * r.solved) / r.tasks).toFixed(0)}%), completed ${r.completed}, output tokens ${r.outputTokens}, input tokens ${r.inputTokens}`)
  }
}
