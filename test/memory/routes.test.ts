import { afterAll, beforeAll, expect, test } from "bun:test"
import { testDaemon, type TestDaemon } from "../daemon/harness"
import { PatternRepo } from "../../src/memory/repo"

// /api/v1/memory on a real daemon (PGlite, the hash embedder): store, search,
// show, delete, stats, backfill and reembed; bad input is a 400 naming the
// field; a provider that is down is a 503 with a hint; vectors of another
// model are never compared (stale until reembedded); the search query uses
// its space's partial HNSW index.

let t: TestDaemon
type ErrorBody = { error: { code: string; message: string; hint?: string; details?: { field?: string; max?: number } } }

beforeAll(async () => {
  t = await testDaemon({ embeddings: { provider: "hash" } })
}, 60_000)

afterAll(async () => {
  await t?.[Symbol.asyncDispose]()
})

test("store then search by the task it is for; show, list and delete", async () => {
  const a = await t.json("POST", "/api/v1/memory/store", { content: "Run the migrations inside one transaction and roll back on the first error.", title: "Migrate atomically", kind: "solution", role: "backend", metadata: { from: "test" } })
  expect(a.status).toBe(201)
  expect(a.body).toMatchObject({ kind: "solution", title: "Migrate atomically", role: "backend", success_count: 0, failure_count: 0, success_rate: null, model: "hash:fh1", stale: false, created: true, metadata: { from: "test" } })
  const b = await t.json("POST", "/api/v1/memory/store", { content: "Bisect the failing test suite to find the test that leaks state.", title: "Find a leaking test by bisection", kind: "testing" })
  expect(b.status).toBe(201)
  const s = await t.json("POST", "/api/v1/memory/search", { query: "how do I migrate the database atomically", limit: 5 })
  expect(s.status).toBe(200)
  expect(s.body.model).toBe("hash:fh1")
  expect(s.body.search_type).toBe("hybrid")
  expect(s.body.patterns[0]).toMatchObject({ id: a.body.id, kind: "solution", success_count: 0, failure_count: 0, model: "hash:fh1" })
  expect(s.body.patterns[0].similarity).toBeGreaterThan(s.body.patterns[1]?.similarity ?? -1)
  const byKind = await t.json("POST", "/api/v1/memory/search", { query: "how do I migrate the database atomically", kind: "testing" })
  expect(byKind.body.patterns.map((p: { id: string }) => p.id)).toEqual([b.body.id])
  expect((await t.json("GET", `/api/v1/memory/${a.body.id}`)).body).toMatchObject({ id: a.body.id, content: a.body.content })
  const list = await t.json("GET", "/api/v1/memory?limit=10")
  expect(list.body.total).toBe(2)
  expect((await t.req("DELETE", `/api/v1/memory/${b.body.id}`)).status).toBe(204)
  expect((await t.json("GET", `/api/v1/memory/${b.body.id}`)).status).toBe(404)
  expect((await t.json("DELETE", `/api/v1/memory/${b.body.id}`)).status).toBe(404)
})

test("the same content again merges instead of adding a row", async () => {
  const one = await t.json("POST", "/api/v1/memory/store", { content: "Cache the parsed config per process.", title: "Cache config", kind: "optimization" })
  const two = await t.json("POST", "/api/v1/memory/store", { content: "Cache the parsed config per process.", title: "Cache config", kind: "optimization" })
  expect(one.status).toBe(201)
  expect(two.status).toBe(200)
  expect(two.body).toMatchObject({ id: one.body.id, created: false, merged: true })
})

test("a near-duplicate of the same kind (cosine >= 0.92 of what it is found by) merges; of another kind it is a row of its own", async () => {
  const base = { title: "Batch the inserts", description: "When loading many rows into the database" }
  const one = await t.json("POST", "/api/v1/memory/store", { ...base, kind: "optimization", content: "Insert rows in batches of 500 in one transaction." })
  const near = await t.json("POST", "/api/v1/memory/store", { ...base, kind: "optimization", content: "Use multi-row INSERT statements, 500 rows each." })
  expect(one.status).toBe(201)
  expect(near.status).toBe(200)
  expect(near.body).toMatchObject({ id: one.body.id, merged: true, content: "Insert rows in batches of 500 in one transaction.", metadata: { merges: 1 } })
  const other = await t.json("POST", "/api/v1/memory/store", { ...base, kind: "solution", content: "Use multi-row INSERT statements, 500 rows each." })
  expect(other.status).toBe(201)
  expect(other.body.id).not.toBe(one.body.id)
})

test("bad input is a 400 naming the field", async () => {
  const cases: [unknown, string, string][] = [
    [{ content: "" }, "content", "content: must not be empty"],
    [{}, "content", "content: is required"],
    [{ content: "x".repeat(20_001) }, "content", "content: is 20001 characters; the limit is 20000"],
    [{ content: "ok", kind: "magic" }, "kind", 'kind: must be one of solution, error_recovery, refactoring, optimization, testing, reasoning, not "magic"'],
  ]
  for (const [body, fieldName, message] of cases) {
    const r = await t.json("POST", "/api/v1/memory/store", body)
    expect(r.status).toBe(400)
    expect((r.body as ErrorBody).error).toMatchObject({ code: "validation", message, details: { field: fieldName } })
  }
  const q = await t.json("POST", "/api/v1/memory/search", { query: "  " })
  expect(q.status).toBe(400)
  expect((q.body as ErrorBody).error.details?.field).toBe("query")
  const l = await t.json("POST", "/api/v1/memory/search", { query: "x", limit: 0 })
  expect((l.body as ErrorBody).error.details?.field).toBe("limit")
})

test("vectors of another model are stale: never searched, counted by stats, re-embedded by a reembed job", async () => {
  const repo = t.daemon.ctx.memory.repo
  const old = { model: "ollama:nomic-embed-text", dimensions: 4 }
  const v = new Float32Array([1, 0, 0, 0])
  const { pattern } = await repo.insert({ kind: "reasoning", title: "Old model pattern about quarterly reports", description: "", content: "Read the quarterly report twice.", keyText: "Old model pattern about quarterly reports" }, old, v)
  const s = await t.json("POST", "/api/v1/memory/search", { query: "Old model pattern about quarterly reports", limit: 50 })
  expect(s.body.patterns.map((p: { id: string }) => p.id)).not.toContain(pattern.id)
  const stats = (await t.json("GET", "/api/v1/memory/stats")).body
  expect(stats).toMatchObject({ model: "hash:fh1", stale: 1, enabled: false, provider: "hash", embedding_kind: "lexical" })
  expect(stats.models).toContainEqual({ model: "ollama:nomic-embed-text", dimensions: 4, count: 1, stale: true })
  const job = await t.json("POST", "/api/v1/memory/reembed")
  expect(job.status).toBe(202)
  expect(job.body).toMatchObject({ status: "running", total: 1, model: "hash:fh1" })
  let j = job.body
  const until = Date.now() + 10_000
  while (j.status === "running" && Date.now() < until) j = (await t.json("GET", `/api/v1/memory/reembed/${job.body.id}`)).body
  expect(j).toMatchObject({ status: "completed", done: 1, total: 1 })
  expect((await t.json("GET", "/api/v1/memory/stats")).body.stale).toBe(0)
  const again = await t.json("POST", "/api/v1/memory/search", { query: "Old model pattern about quarterly reports", limit: 1 })
  expect(again.body.patterns[0]).toMatchObject({ id: pattern.id, model: "hash:fh1" })
})

test("a nearest-neighbour query uses its space's partial HNSW index", async () => {
  const db = t.daemon.ctx.store.sql
  const space = t.daemon.ctx.embedder.space
  const repo = new PatternRepo(db)
  const { text, extra } = repo.searchSql(space)
  const vec = `[${Array.from({ length: space.dimensions }, (_, i) => (i === 0 ? 1 : 0)).join(",")}]`
  const plan = await db.transaction(async (tx) => {
    await tx.exec("SET LOCAL enable_seqscan = off")
    return tx.query<{ "QUERY PLAN": string }>(`EXPLAIN ${text}`, [vec, 5, ...extra])
  })
  const lines = plan.map((r) => Object.values(r)[0]).join("\n")
  expect(lines).toMatch(/Index Scan using patterns_vec_[0-9a-f]{8}/)
})

test("a provider that is down is a 503 with a hint", async () => {
  const down = await testDaemon({ embeddings: { provider: "ollama", url: "http://127.0.0.1:9", timeout_s: 2 } })
  try {
    const r = await down.json("POST", "/api/v1/memory/search", { query: "anything" })
    expect(r.status).toBe(503)
    expect((r.body as ErrorBody).error.code).toBe("embeddings_unavailable")
    expect((r.body as ErrorBody).error.hint).toBeTruthy()
    const st = await down.json("POST", "/api/v1/memory/store", { content: "something" })
    expect(st.status).toBe(503)
  } finally {
    await down[Symbol.asyncDispose]()
  }
}, 60_000)
