import type { Queryable } from "./sql"

// Vectors of several embedding models in one table.
//
// Problem: a pgvector column declared `vector(768)` holds one dimension only,
// but the memory and the code index store vectors of whichever model is
// configured (USE-lite 512, nomic-embed-text 768, an OpenAI-compatible model
// of its own size), and a search must never compare vectors of two models.
// Fix: the column is a plain `vector`, each row records its model and
// dimension, and every (model, dimension) gets its own partial expression
// index: `USING hnsw ((embedding::vector(512)) vector_cosine_ops) WHERE
// embedding_model = '...' AND embedding_dim = 512`. A search filters on the
// same two columns and orders by the same cast expression, so the planner
// uses that model's index and no other model's rows are ever candidates.
// Model and dimension are written into the SQL as literals (not parameters)
// so the partial index's predicate matches under generic plans too.

export type VectorSpace = { model: string; dimensions: number }
export type VectorIndexMethod = "hnsw" | "ivfflat"

const IDENT = /^[a-z_][a-z0-9_]*$/

function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`not a plain SQL identifier: ${name}`)
  return name
}

function dims(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 16_000) throw new Error(`a vector dimension must be a whole number from 1 to 16000, not ${n}`)
  return n
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`
}

/** pgvector's text form of a vector: `[0.1,0.2,...]`. Non-finite values are refused (pgvector would reject them). */
export function vectorLiteral(v: ArrayLike<number>): string {
  let s = "["
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!
    if (!Number.isFinite(x)) throw new Error(`vector component ${i} is ${x}`)
    s += i === 0 ? `${x}` : `,${x}`
  }
  return `${s}]`
}

/** The parse of pgvector's text form (what a `vector` column reads back as on both engines). */
export function parseVector(text: string): Float32Array {
  const inner = text.trim().replace(/^\[/, "").replace(/\]$/, "")
  if (inner === "") return new Float32Array(0)
  return Float32Array.from(inner.split(","), Number)
}

/** The expression a space's rows are indexed and ordered by: `(embedding::vector(512))`. */
export function vectorExpr(space: VectorSpace, column = "embedding"): string {
  return `(${ident(column)}::vector(${dims(space.dimensions)}))`
}

/** The predicate that keeps a space's rows: `embedding_model = '...' AND embedding_dim = 512`. */
export function spacePredicate(space: VectorSpace, opts: { modelColumn?: string; dimColumn?: string; alias?: string } = {}): string {
  const p = opts.alias ? `${ident(opts.alias)}.` : ""
  return `${p}${ident(opts.modelColumn ?? "embedding_model")} = ${sqlString(space.model)} AND ${p}${ident(opts.dimColumn ?? "embedding_dim")} = ${dims(space.dimensions)}`
}

/** A stable index name for (table, space, method): `<table>_vec_<8 hex>`. */
export function vectorIndexName(table: string, space: VectorSpace, method: VectorIndexMethod = "hnsw"): string {
  const h = new Bun.CryptoHasher("sha256").update(`${space.model}\0${space.dimensions}\0${method}`).digest("hex").slice(0, 8)
  return `${ident(table)}_vec_${h}`
}

export type EnsureIndex = {
  table: string
  space: VectorSpace
  method?: VectorIndexMethod
  column?: string
  /** IVFFlat lists (default 100); build it after the table has rows, as IVFFlat learns its centroids from them. */
  lists?: number
  /** HNSW graph degree (pgvector's default 16) and build-time candidate list (default 64); they apply when the index is built. */
  m?: number
  efConstruction?: number
}

/**
 * Create the space's partial cosine index if it is missing (idempotent).
 * Returns the index name. Call it before the first insert of a new space (HNSW)
 * or once rows exist (IVFFlat).
 */
export async function ensureVectorIndex(db: Queryable, o: EnsureIndex): Promise<string> {
  const method = o.method ?? "hnsw"
  const name = vectorIndexName(o.table, o.space, method)
  const using = method === "hnsw" ? "hnsw" : "ivfflat"
  const int = (x: number) => Math.max(1, Math.floor(x))
  const hnswOpts = [o.m === undefined ? "" : `m = ${int(o.m)}`, o.efConstruction === undefined ? "" : `ef_construction = ${int(o.efConstruction)}`].filter(Boolean)
  const withOpts =
    method === "ivfflat" ? ` WITH (lists = ${int(o.lists ?? 100)})` : hnswOpts.length ? ` WITH (${hnswOpts.join(", ")})` : ""
  await db.exec(
    `CREATE INDEX IF NOT EXISTS ${name} ON ${ident(o.table)} USING ${using} (${vectorExpr(o.space, o.column)} vector_cosine_ops)${withOpts} WHERE ${spacePredicate(o.space)}`,
  )
  return name
}
