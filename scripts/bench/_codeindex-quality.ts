// The quality half of `bun run bench codeindex`: MRR@10 and R@10 of code
// search on scripts/bench/data/codeindex-queries.tsv (queries written for
// this bench, in plain words, over Python's standard library and npm
// packages' sources), each method on the same chunks in the same run:
// - bm25: plain Okapi BM25 (k1 1.2, b 0.75) over each chunk's text, words
//   and split identifiers lower-cased, no stemming: the baseline;
// - lexical: the service's search with vectors off (BM25F over the weighted
//   tsvector + name signal);
// - vectors: cosine of query and chunk vectors alone, over every chunk;
// - fused: the service's search as configured (DEFAULT_FUSION).
// The fusion grid is printed for the dev split only; held-out is reported
// with the fusion the dev split chose, never tuned on.
import { mkdir, copyFile, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { CodeIndex, type Job } from "../../src/codeindex/service"
import { DEFAULT_FUSION, fuse, type Fusion, type SearchResult } from "../../src/codeindex/search"
import { decodeVector, fromBase64 } from "../../src/codeindex/vectors"
import { identifierText, queryTerms } from "../../src/codeindex/text"
import { createEmbedder } from "../../src/embeddings/embedder"
import { cosine, type Embedder } from "../../src/embeddings/types"
import { EmbeddingsSection } from "../../src/config/schema"
import { openStore } from "../../src/store/store"
import * as v from "valibot"

const PY = "/usr/lib/python3.11"
const PY_FILES = "textwrap shutil posixpath glob fnmatch difflib heapq bisect functools string base64 hmac uuid tempfile csv urllib/parse http/cookies ipaddress statistics random fractions calendar shlex gzip secrets colorsys copy pprint reprlib graphlib contextlib queue sched netrc mimetypes filecmp linecache getopt configparser html/__init__ html/parser email/utils json/decoder json/encoder json/__init__ quopri operator keyword numbers zipimport wave sndhdr imghdr plistlib stat locale nturl2path ntpath genericpath weakref selectors traceback tokenize dis inspect datetime".split(" ")
const NPM_FILES = [
  ...["escape-html", "etag", "content-type", "bytes", "fresh", "encodeurl", "ms", "vary", "forwarded", "media-typer", "range-parser", "parseurl", "proxy-addr", "on-finished", "statuses", "type-is", "accepts", "mime-types", "denque"].map((p) => `${p}/index.js`),
  "debug/src/common.js", "debug/src/node.js", "cross-spawn/lib/enoent.js", "cross-spawn/lib/parse.js", "ipaddr.js/lib/ipaddr.js",
  ...["application", "express", "request", "response", "utils", "view"].map((f) => `express/lib/${f}.js`),
  "body-parser/lib/read.js", "body-parser/lib/utils.js", "cluster-key-slot/lib/index.js",
  ...["formats", "index", "parse", "stringify", "utils"].map((f) => `qs/lib/${f}.js`),
  ...["accept", "charset", "encoding", "language", "mediaType"].map((f) => `negotiator/lib/${f}.js`),
]

type Query = { split: "dev" | "held"; query: string; targets: string[] }
type Metrics = { mrr: number; r10: number; n: number }

export async function loadQueries(): Promise<Query[]> {
  const text = await Bun.file(join(import.meta.dir, "data", "codeindex-queries.tsv")).text()
  return text
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"))
    .map((l) => {
      const [split, query, targets] = l.split("\t")
      if ((split !== "dev" && split !== "held") || !query || !targets) throw new Error(`bad query line: ${l}`)
      return { split, query, targets: targets.split(" ").filter(Boolean) }
    })
}

/** An embedder that remembers vectors on disk (the local model takes minutes for the corpus; reruns need not). */
async function cachedEmbedder(inner: Embedder): Promise<Embedder & { save(): Promise<void>; misses: number }> {
  const file = join(tmpdir(), "cca-bench-cache", `codeindex-${inner.model.replace(/[^a-z0-9]+/gi, "_")}-${inner.dimensions}.json`)
  const cache = new Map<string, string>(Object.entries(await Bun.file(file).json().catch(() => ({}))))
  const key = (t: string) => new Bun.CryptoHasher("sha1").update(t).digest("hex")
  const self = {
    provider: inner.provider, model: inner.model, dimensions: inner.dimensions, kind: inner.kind, space: inner.space,
    health: () => inner.health(),
    close: () => inner.close?.() ?? Promise.resolve(),
    misses: 0,
    async embed(texts: readonly string[], opts?: Parameters<Embedder["embed"]>[1]) {
      const keys = texts.map(key)
      const todo = texts.filter((_, i) => !cache.has(keys[i]!))
      if (todo.length) {
        self.misses += todo.length
        const vecs = await inner.embed(todo, opts)
        todo.forEach((t, i) => cache.set(key(t), Buffer.from(vecs[i]!.buffer, vecs[i]!.byteOffset, vecs[i]!.byteLength).toString("base64")))
      }
      return keys.map((k) => decodeVector(Buffer.from(cache.get(k)!, "base64")))
    },
    async save() {
      await mkdir(dirname(file), { recursive: true })
      await Bun.write(`${file}.tmp`, JSON.stringify(Object.fromEntries(cache)))
      await Bun.$`mv ${file}.tmp ${file}`.quiet()
    },
  }
  return self
}

class Bm25 {
  private docs: { id: number; tf: Map<string, number>; len: number }[] = []
  private df = new Map<string, number>()
  private avg = 0
  constructor(chunks: { id: number; content: string }[]) {
    for (const c of chunks) {
      const tf = new Map<string, number>()
      const words = identifierText(c.content).split(" ").filter(Boolean)
      for (const w of words) tf.set(w, (tf.get(w) ?? 0) + 1)
      for (const w of tf.keys()) this.df.set(w, (this.df.get(w) ?? 0) + 1)
      this.docs.push({ id: c.id, tf, len: words.length })
    }
    this.avg = this.docs.reduce((s, d) => s + d.len, 0) / Math.max(1, this.docs.length)
  }
  search(query: string, k = 10): number[] {
    const terms = queryTerms(query)
    const N = this.docs.length
    const scored: [number, number][] = []
    for (const d of this.docs) {
      let s = 0
      for (const t of terms) {
        const f = d.tf.get(t)
        if (!f) continue
        const n = this.df.get(t)!
        const idf = Math.log(1 + (N - n + 0.5) / (n + 0.5))
        s += (idf * f * 2.2) / (f + 1.2 * (0.25 + (0.75 * d.len) / this.avg))
      }
      if (s > 0) scored.push([d.id, s])
    }
    return scored.sort((a, b) => b[1] - a[1]).slice(0, k).map(([id]) => id)
  }
}

function metrics(ranked: number[][], relevant: Set<number>[]): Metrics {
  let mrr = 0
  let hit = 0
  ranked.forEach((ids, i) => {
    const r = ids.slice(0, 10).findIndex((id) => relevant[i]!.has(id))
    if (r >= 0) {
      mrr += 1 / (r + 1)
      hit++
    }
  })
  return { mrr: mrr / ranked.length, r10: hit / ranked.length, n: ranked.length }
}

const fmtM = (m: Metrics) => `${m.mrr.toFixed(3)}  ${m.r10.toFixed(3)}`
const fusionName = (f: Fusion) => (f.kind === "weighted" ? `weighted name ${f.name} vector ${f.vector} pool ${f.pool}` : `rrf k ${f.k} name ${f.name} vector ${f.vector} pool ${f.pool}`)

export async function quality(): Promise<void> {
  const provider = (Bun.env.CCA_BENCH_EMBEDDINGS ?? "local") as "local" | "hash"
  const work = await mkdtemp(join(tmpdir(), "cca-bench-codeq-"))
  const embedder = await cachedEmbedder(createEmbedder(v.parse(EmbeddingsSection, { provider })))
  try {
    const corpus = join(work, "corpus")
    for (const f of PY_FILES) await mkdir(dirname(join(corpus, "py", `${f}.py`)), { recursive: true }).then(() => copyFile(join(PY, `${f}.py`), join(corpus, "py", `${f}.py`)))
    for (const f of NPM_FILES) await mkdir(dirname(join(corpus, "npm", f)), { recursive: true }).then(() => copyFile(join("node_modules", f), join(corpus, "npm", f)))
    const store = await openStore({ dataDir: "memory" })
    const code = new CodeIndex({ db: store.sql, config: { roots: [work], exclude: [], max_file_bytes: 1024 * 1024, chunk_lines: 60 }, embedder })
    const job: Job = { id: "q", root: corpus, status: "running", files_total: 0, files_done: 0, files_skipped: 0, files_unchanged: 0, files_removed: 0, chunks: 0, errors: [], rate_files_s: 0, eta_s: null, started_at: new Date().toISOString() }
    await code.run(job)
    const t0 = performance.now()
    const ticker = setInterval(async () => {
      const s = await code.vectors!.status()
      console.error(`  embedding chunks (${embedder.model}): ${s.embedded}/${s.embedded + s.pending}`)
      await embedder.save()
    }, 15_000)
    await code.vectors!.idle()
    clearInterval(ticker)
    await embedder.save()
    const embedSecs = (performance.now() - t0) / 1000
    const vs = await code.vectors!.status()
    if (vs.error) throw new Error(`embedding failed: ${vs.error}`)
    const chunks = (await store.sql.query<{ id: string; path: string; name: string | null; parent: string | null; content: string }>("SELECT id, path, name, parent, content FROM codeindex_chunks")).map((c) => ({ ...c, id: Number(c.id) }))
    console.log(`\nquality corpus: ${job.files_total} files (${PY_FILES.length} Python stdlib modules, ${NPM_FILES.length} npm package sources), ${chunks.length} chunks; vectors ${embedder.model} (${embedder.kind}), ${embedder.misses} embedded in ${embedSecs.toFixed(0)} s, the rest from the bench's cache`)
    const byKey = new Map<string, number[]>()
    for (const c of chunks) {
      const k = `${c.path}#${c.parent ? `${c.parent}.` : ""}${c.name ?? ""}`
      byKey.set(k, [...(byKey.get(k) ?? []), c.id])
      byKey.set(`${c.path}#`, [...(byKey.get(`${c.path}#`) ?? []), c.id])
    }
    const queries = await loadQueries()
    const missing = queries.flatMap((q) => q.targets.filter((t) => !byKey.has(t.includes("#") ? t : `${t}#`)))
    if (missing.length) throw new Error(`query targets that are no chunk of the corpus: ${missing.join(", ")}`)
    const relevant = queries.map((q) => new Set(q.targets.flatMap((t) => byKey.get(t.includes("#") ? t : `${t}#`)!)))

    const bm25 = new Bm25(chunks)
    const vecRows = await store.sql.query<{ chunk_id: string; embedding: string }>("SELECT chunk_id, encode(embedding, 'base64') AS embedding FROM codeindex_vectors WHERE embedding_model = $1", [embedder.model])
    const all = vecRows.map((r) => ({ id: Number(r.chunk_id), v: fromBase64(r.embedding) }))
    const pools: SearchResult[][] = []
    const ranked: Record<string, number[][]> = { bm25: [], lexical: [], vectors: [], fused: [] }
    for (const q of queries) {
      ranked.bm25!.push(bm25.search(q.query))
      ranked.lexical!.push((await code.search({ query: q.query, limit: 10, mode: "lexical" })).results.map((r) => r.id))
      const qv = (await embedder.embed([q.query], { purpose: "query" }))[0]!
      ranked.vectors!.push(all.map((c) => [c.id, cosine(qv, c.v)] as const).sort((a, b) => b[1] - a[1]).slice(0, 10).map(([id]) => id))
      ranked.fused!.push((await code.search({ query: q.query, limit: 10 })).results.map((r) => r.id))
      pools.push((await code.search({ query: q.query, limit: 100 }, { all: true, fusion: { ...DEFAULT_FUSION, pool: 200 } })).results)
    }
    await embedder.save()
    const idx = (s: Query["split"]) => queries.flatMap((q, i) => (q.split === s ? [i] : []))
    const dev = idx("dev")
    const held = idx("held")
    const on = (rows: number[][], ix: number[]) => metrics(ix.map((i) => rows[i]!), ix.map((i) => relevant[i]!))

    // The grid, on dev only: pools are the top of the same 200 lexical candidates.
    const grid: Fusion[] = []
    for (const pool of [50, 100, 200]) {
      for (const name of [0, 0.15, 0.3, 0.5]) {
        for (const vector of [0, 0.25, 0.5, 1, 1.5, 2, 3]) grid.push({ kind: "weighted", name, vector, pool })
        for (const vector of [0.5, 1, 2]) grid.push({ kind: "rrf", k: 60, name, vector, pool })
      }
    }
    const lexicalOrder = pools.map((p) => [...p].sort((a, b) => b.signals.lexical - a.signals.lexical))
    const rankWith = (f: Fusion, ix: number[]) => ix.map((i) => fuse(lexicalOrder[i]!.slice(0, f.pool), f).slice(0, 10).map((r) => r.id))
    const scoredGrid = grid.map((f) => ({ f, m: metrics(rankWith(f, dev), dev.map((i) => relevant[i]!)) })).sort((a, b) => b.m.mrr - a.m.mrr || b.m.r10 - a.m.r10)
    console.log(`\nfusion grid on the dev split (${dev.length} queries), best 8 of ${grid.length}:  MRR@10  R@10`)
    for (const g of scoredGrid.slice(0, 8)) console.log(`  ${fusionName(g.f).padEnd(44)} ${fmtM(g.m)}`)
    const best = scoredGrid[0]!.f
    console.log(`  dev's best: ${fusionName(best)}; the service's DEFAULT_FUSION: ${fusionName(DEFAULT_FUSION)}`)

    console.log(`\nmethod              dev (${dev.length}) MRR@10  R@10   held-out (${held.length}) MRR@10  R@10`)
    const row = (name: string, rows: number[][]) => console.log(`${name.padEnd(20)}${fmtM(on(rows, dev)).padStart(18)}   ${fmtM(on(rows, held)).padStart(24)}`)
    row("bm25 (baseline)", ranked.bm25!)
    row("lexical (service)", ranked.lexical!)
    row(`vectors alone`, ranked.vectors!)
    row("fused (service)", ranked.fused!)
    const heldBm25 = on(ranked.bm25!, held).mrr
    const heldFused = on(ranked.fused!, held).mrr
    console.log(`\nheld-out: fused vs bm25 MRR@10 ${heldFused.toFixed(3)} vs ${heldBm25.toFixed(3)}: ${(((heldFused - heldBm25) / heldBm25) * 100).toFixed(1)}% relative (goal >= +10%)`)
    await code.close()
    await store.close()
  } finally {
    await embedder.close?.()
    await rm(work, { recursive: true, force: true })
  }
}
