import { afterAll, beforeAll, expect, test } from "bun:test"
import { openPglite, type PgliteSql } from "../../src/store/pglite"
import { ensureVectorIndex, parseVector, spacePredicate, vectorExpr, vectorIndexName, vectorLiteral } from "../../src/store/vectors"

// Two embedding models of two dimensions in one untyped vector column: each
// (model, dimension) has its own partial HNSW index, the planner uses it, and
// a search sees only that model's rows.

let sql: PgliteSql
const a = { model: "test:a", dimensions: 8 }
const b = { model: "test:b", dimensions: 4 }

beforeAll(async () => {
  sql = await openPglite()
  await sql.exec("CREATE EXTENSION IF NOT EXISTS vector; CREATE TABLE docs (id serial PRIMARY KEY, embedding vector, embedding_model text, embedding_dim int)")
})
afterAll(async () => {
  await sql.close()
})

const unit = (d: number, hot: number) => Array.from({ length: d }, (_, i) => (i === hot ? 1 : 0.01 * i))

test("literals round-trip and refuse NaN", () => {
  expect(vectorLiteral([0.5, -1, 2e-7])).toBe("[0.5,-1,2e-7]")
  expect([...parseVector("[0.5,-1,2e-7]")]).toEqual([0.5, -1, Math.fround(2e-7)])
  expect(() => vectorLiteral([1, Number.NaN])).toThrow("component 1")
  expect(spacePredicate({ model: "o'brien", dimensions: 3 })).toBe("embedding_model = 'o''brien' AND embedding_dim = 3")
  expect(() => vectorExpr({ model: "m", dimensions: 0 })).toThrow("whole number")
})

test("each space gets its own index, the planner uses it, and search never crosses spaces", async () => {
  const ia = await ensureVectorIndex(sql, { table: "docs", space: a })
  expect(await ensureVectorIndex(sql, { table: "docs", space: a })).toBe(ia) // idempotent
  const ib = await ensureVectorIndex(sql, { table: "docs", space: b })
  expect(ia).not.toBe(ib)
  expect(ia).toBe(vectorIndexName("docs", a))
  for (let i = 0; i < 200; i++) {
    const s = i % 2 ? a : b
    await sql.query("INSERT INTO docs (embedding, embedding_model, embedding_dim) VALUES ($1, $2, $3)", [vectorLiteral(unit(s.dimensions, i % s.dimensions)), s.model, s.dimensions])
  }
  await sql.exec("ANALYZE docs; SET enable_seqscan = off")
  const q = vectorLiteral(unit(8, 3))
  const search = `SELECT id, embedding_model FROM docs WHERE ${spacePredicate(a)} ORDER BY ${vectorExpr(a)} <=> $1::vector(8) LIMIT 5`
  const plan = (await sql.query<{ "QUERY PLAN": string }>(`EXPLAIN ${search}`, [q])).map((r) => r["QUERY PLAN"]).join("\n")
  expect(plan).toContain(`Index Scan using ${ia}`)
  const rows = await sql.query<{ embedding_model: string }>(search, [q])
  expect(rows).toHaveLength(5)
  expect(rows.every((r) => r.embedding_model === a.model)).toBe(true)
  await sql.exec("RESET enable_seqscan")
})
