import { afterAll, beforeAll, expect, test } from "bun:test"
import { utimes, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { fuse, type Signals } from "../../src/codeindex/search"
import { CodeIndex, type Job } from "../../src/codeindex/service"
import { decodeVector, embedText, encodeVector, fromBase64, toBase64 } from "../../src/codeindex/vectors"
import { createHashEmbedder } from "../../src/embeddings/hash"
import type { Sql } from "../../src/store/sql"
import { openStore } from "../../src/store/store"
import { createDatabase, eachEngine, startPostgres, type PostgresServer } from "../support/postgres"
import { tmpdir, type TmpDir } from "../support/tmpdir"

// Chunk vectors and fused search on the real engines: PGlite, PGlite over
// the wire (postgres.js), and Debian's PostgreSQL, which has no pgvector:
// code vectors must work there too (they are bytea scored in the daemon).

const STDLIB = ["textwrap.py", "heapq.py", "bisect.py", "fnmatch.py"]
let dir: TmpDir

async function restore() {
  for (const f of STDLIB) await writeFile(join(dir.path, f), await Bun.file(`/usr/lib/python3.11/${f}`).text())
}

beforeAll(async () => {
  dir = await tmpdir({ prefix: "cca-code-vec-" })
  await restore()
})
afterAll(async () => {
  await dir?.[Symbol.asyncDispose]()
})

const newJob = (root: string): Job => ({ id: crypto.randomUUID(), root, status: "running", files_total: 0, files_done: 0, files_skipped: 0, files_unchanged: 0, files_removed: 0, chunks: 0, errors: [], rate_files_s: 0, eta_s: null, started_at: new Date().toISOString() })
const config = () => ({ roots: [dir.path], exclude: [], max_file_bytes: 1 << 20, chunk_lines: 60 })

async function vectorsAndFusion(sql: Sql) {
  await restore()
  const code = new CodeIndex({ db: sql, config: config(), embedder: createHashEmbedder({ dimensions: 256 }) })
  try {
    const job = await code.run(newJob(dir.path))
    expect(job.status).toBe("completed")
    // Lexical search answers before any vector exists (the background pass may still run).
    const early = await code.search({ query: "remove common leading whitespace", mode: "lexical" })
    expect(early.results[0]).toMatchObject({ name: "dedent", signals: { vector: null } })
    await code.vectors!.idle()
    const st = await code.vectors!.status()
    expect(st).toMatchObject({ model: "hash:fh1", dimensions: 256, embedded: job.chunks, pending: 0, running: false })
    const r = await code.search({ query: "remove common leading whitespace", limit: 5 })
    expect(r.search_type).toBe("hybrid")
    expect(r.results[0]!.name).toBe("dedent")
    for (const x of r.results) expect(typeof x.signals.vector).toBe("number")
    // Stored vectors are exactly what the embedder gives for the chunk's text.
    const [row] = await sql.query<{ id: string; name: string; parent: string | null; path: string; signature: string; doc: string; content: string }>("SELECT id, name, parent, path, signature, doc, content FROM codeindex_chunks WHERE name = 'dedent'")
    const [want] = await createHashEmbedder({ dimensions: 256 }).embed([embedText(row!)])
    expect([...(await code.vectors!.get([Number(row!.id)])).get(Number(row!.id))!]).toEqual([...want!])
    // A changed file: its chunks are new rows, pending until the pass embeds them; the rest keep theirs.
    const before = (await sql.query<{ n: number }>("SELECT count(*)::int AS n FROM codeindex_vectors"))[0]!.n
    await writeFile(join(dir.path, "bisect.py"), 'def find_slot(xs, x):\n    """Where x would go."""\n    return 0\n')
    const again = await code.run(newJob(dir.path))
    expect(again.files_unchanged).toBe(STDLIB.length - 1)
    await code.vectors!.idle()
    const after = await code.vectors!.status()
    expect(after.pending).toBe(0)
    expect(after.embedded).toBeLessThan(before)
    expect((await code.search({ query: "find slot" })).results[0]).toMatchObject({ name: "find_slot", signals: { vector: expect.any(Number) } })
    // Another model is another space: none of the old vectors is used or counted; the pass replaces them.
    const other = new CodeIndex({ db: sql, config: config(), embedder: createHashEmbedder({ dimensions: 128 }) })
    expect((await other.vectors!.status()).embedded).toBe(0)
    const ids = (await sql.query<{ id: string }>("SELECT id FROM codeindex_chunks")).map((x) => Number(x.id))
    expect((await other.vectors!.get(ids)).size).toBe(0)
    other.vectors!.kick()
    await other.vectors!.idle()
    expect((await other.vectors!.status()).pending).toBe(0)
    expect([...(await other.vectors!.get(ids)).values()].every((v) => v.length === 128)).toBe(true)
    expect((await other.search({ query: "remove common leading whitespace" })).results[0]).toMatchObject({ name: "dedent", signals: { vector: expect.any(Number) } })
    expect((await code.vectors!.status()).embedded).toBe(0)
    await other.close()
  } finally {
    await code.close()
  }
}

eachEngine((sql) => {
  test("chunks are embedded in the background; search fuses their cosine with the lexical score; another model's vectors are never compared", () => vectorsAndFusion(sql()), 60_000)
})

let pg: PostgresServer | undefined
afterAll(async () => {
  await pg?.close()
})

test("on a PostgreSQL without pgvector code vectors and fused search still work", async () => {
  pg = await startPostgres()
  const store = await openStore({ postgresUrl: await createDatabase(pg, "codevectors"), postgresPool: 2 })
  try {
    expect(store.vectors.available).toBe(false)
    await vectorsAndFusion(store.sql)
  } finally {
    await store.close()
  }
}, 120_000)

test("re-index reads no file whose size and mtime are unchanged, but catches a same-size edit with a new mtime", async () => {
  await restore()
  const store = await openStore({ dataDir: "memory" })
  const code = new CodeIndex({ db: store.sql, config: config() })
  try {
    await code.run(newJob(dir.path))
    const path = join(dir.path, "fnmatch.py")
    // Backdate every file so the recorded mtimes are trusted (a file changed within a second of being indexed is hashed).
    const old = new Date(Date.now() - 60_000)
    for (const f of STDLIB) await utimes(join(dir.path, f), old, old)
    await code.run(newJob(dir.path))
    const text = await Bun.file(path).text()
    const edited = text.replace("def fnmatch(", "def fnmatcx(")
    expect(edited.length).toBe(text.length)
    await writeFile(path, edited)
    const job = await code.run(newJob(dir.path))
    expect(job.files_unchanged).toBe(STDLIB.length - 1)
    expect((await code.search({ query: "fnmatcx" })).results[0]).toMatchObject({ name: "fnmatcx", path: "fnmatch.py" })
    // Touched without a change: hashed once (unchanged), its new mtime recorded.
    const later = new Date(Date.now() - 30_000)
    await utimes(path, later, later)
    expect((await code.run(newJob(dir.path))).files_unchanged).toBe(STDLIB.length)
    const [row] = await store.sql.query<{ mtime_ms: number }>("SELECT mtime_ms FROM codeindex_files WHERE path = 'fnmatch.py'")
    expect(Math.round(row!.mtime_ms)).toBe(later.getTime())
  } finally {
    await code.close()
    await store.close()
  }
}, 60_000)

test("fusion: weights add the signals; RRF adds reciprocal ranks; no vector anywhere means lexical order", () => {
  const c = (id: string, s: Signals) => ({ id, signals: s })
  const cands = [c("a", { lexical: 1, name: 0, vector: 0.1 }), c("b", { lexical: 0.8, name: 0, vector: 0.9 }), c("c", { lexical: 0.5, name: 1, vector: 0.2 })]
  expect(fuse(cands, { kind: "weighted", name: 0, vector: 0, pool: 10 }).map((x) => x.id)).toEqual(["a", "b", "c"])
  expect(fuse(cands, { kind: "weighted", name: 0, vector: 0.5, pool: 10 }).map((x) => x.id)).toEqual(["b", "a", "c"])
  expect(fuse(cands, { kind: "weighted", name: 1, vector: 0, pool: 10 }).map((x) => x.id)).toEqual(["c", "a", "b"])
  const rrf = fuse(cands, { kind: "rrf", k: 60, name: 0, vector: 1, pool: 10 })
  expect(rrf[0]!.id).toBe("b") // ranks 2 and 1 beat 1 and 3
  expect(rrf[0]!.score).toBeCloseTo(1 / 62 + 1 / 61, 10)
  const none = cands.map((x) => ({ ...x, signals: { ...x.signals, vector: null } }))
  expect(fuse(none, { kind: "weighted", name: 0, vector: 5, pool: 10 }).map((x) => x.id)).toEqual(["a", "b", "c"])
})

test("vectors travel as float32 bytes and base64 without loss", () => {
  const v = Float32Array.from([0.5, -1.25, 3e-8, 0])
  expect([...decodeVector(encodeVector(v))]).toEqual([...v])
  expect([...fromBase64(toBase64(v))]).toEqual([...v])
  expect(decodeVector(encodeVector(v.subarray(1, 3))).length).toBe(2)
})
