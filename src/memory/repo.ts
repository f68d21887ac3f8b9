import type { Queryable } from "../store/sql"
import { ensureVectorIndex, parseVector, spacePredicate, vectorExpr, vectorLiteral, type VectorIndexMethod, type VectorSpace } from "../store/vectors"

// The patterns table (migrations 0002 + 0003) and the uses of patterns by
// tasks. Vectors of one (model, dimension) only ever meet vectors of the same
// space: every vector query filters on spacePredicate and orders by the same
// cast expression as that space's partial index, so the planner can use it.

export const KINDS = ["solution", "error_recovery", "refactoring", "optimization", "testing", "reasoning"] as const
export type PatternKind = (typeof KINDS)[number]

export type Pattern = {
  id: string
  kind: PatternKind
  title: string
  description: string
  content: string
  role: string | null
  /** What the pattern is retrieved by: the source task's description with the title and description. */
  keyText: string
  sourceTaskIds: string[]
  successCount: number
  failureCount: number
  /** null until used once. */
  successRate: number | null
  model: string | null
  dimensions: number | null
  metadata: Record<string, unknown>
  createdAt: Date
  updatedAt: Date
  lastUsedAt: Date | null
}

export type NewPattern = {
  kind: PatternKind
  title: string
  description: string
  content: string
  role?: string | null
  keyText: string
  sourceTaskIds?: string[]
  metadata?: Record<string, unknown>
  successCount?: number
  failureCount?: number
}

/** `tsv`: the pattern's key_tsv (text form), for the lexical ranking (lexical.ts). */
export type Hit = { pattern: Pattern; similarity: number; tsv?: string }

export type HnswOptions = { m?: number; efConstruction?: number; efSearch?: number }

type Row = Record<string, unknown>

const COLS = `id, kind, title, description, content, role, key_text, source_task_ids, success_count, failure_count, success_rate,
  embedding_model, embedding_dim, metadata, created_at, updated_at, last_used_at`

function date(v: unknown): Date {
  return v instanceof Date ? v : new Date(String(v))
}

function uuids(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String)
  if (typeof v === "string") return v.replace(/^\{|\}$/g, "").split(",").filter(Boolean)
  return []
}

function toPattern(r: Row): Pattern {
  return {
    id: String(r.id),
    kind: r.kind as PatternKind,
    title: String(r.title ?? ""),
    description: String(r.description ?? ""),
    content: String(r.content),
    role: (r.role as string | null) ?? null,
    keyText: String(r.key_text ?? ""),
    sourceTaskIds: uuids(r.source_task_ids),
    successCount: Number(r.success_count),
    failureCount: Number(r.failure_count),
    successRate: r.success_rate === null || r.success_rate === undefined ? null : Number(r.success_rate),
    model: (r.embedding_model as string | null) ?? null,
    dimensions: r.embedding_dim === null || r.embedding_dim === undefined ? null : Number(r.embedding_dim),
    metadata: (typeof r.metadata === "string" ? JSON.parse(r.metadata) : r.metadata) as Record<string, unknown>,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    lastUsedAt: r.last_used_at ? date(r.last_used_at) : null,
  }
}

export function contentHash(kind: string, content: string): string {
  return new Bun.CryptoHasher("sha256").update(`${kind}\0${content.trim()}`).digest("hex")
}

export type SearchFilter = { kind?: PatternKind; role?: string }

export class PatternRepo {
  private readonly indexed = new Set<string>()
  private readonly checks = new Map<string, number>()

  constructor(
    private readonly db: Queryable,
    private readonly method: VectorIndexMethod = "hnsw",
    /** IVFFlat learns its centroids from the rows there are: it is built once a space has this many (an exact scan until then). */
    private readonly ivfflatMinRows = 1000,
    /** HNSW build options (when a space's index is first made) and the search-time candidate list. */
    readonly hnsw: HnswOptions = {},
  ) {}

  /**
   * The space's partial index, made once per process: HNSW before the first
   * vector is written; IVFFlat once the space has `ivfflatMinRows` rows
   * (lists = rows / 1000, pgvector's advice), checked every 100 writes.
   */
  async ensureIndex(space: VectorSpace): Promise<void> {
    const key = `${space.model}\0${space.dimensions}`
    if (this.indexed.has(key)) return
    if (this.method === "ivfflat") {
      const n = (this.checks.get(key) ?? 0) + 1
      this.checks.set(key, n)
      if (n % 100 !== 1) return
      const [r] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patterns WHERE ${spacePredicate(space)}`)
      const rows = Number(r!.n)
      if (rows < this.ivfflatMinRows) return
      await ensureVectorIndex(this.db, { table: "patterns", space, method: "ivfflat", lists: Math.max(1, Math.floor(rows / 1000)) })
    } else {
      await ensureVectorIndex(this.db, { table: "patterns", space, method: this.method, m: this.hnsw.m, efConstruction: this.hnsw.efConstruction })
    }
    this.indexed.add(key)
  }

  /**
   * A new pattern with its vector. The same kind and content again (exact)
   * merges into the stored row (its sources grow) instead of failing.
   */
  async insert(p: NewPattern, space: VectorSpace, vector: Float32Array): Promise<{ pattern: Pattern; created: boolean }> {
    await this.ensureIndex(space)
    const rows = await this.db.query<Row>(
      `INSERT INTO patterns (kind, title, description, content, content_hash, role, key_text, source_task_ids, source_task_id, metadata,
         success_count, failure_count, embedding, embedding_model, embedding_dim)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::uuid[], $9::uuid, $10, $11, $12, $13::vector, $14, $15)
       ON CONFLICT (content_hash) DO UPDATE SET
         source_task_ids = (SELECT array_agg(DISTINCT x) FROM unnest(patterns.source_task_ids || EXCLUDED.source_task_ids) AS x),
         updated_at = now()
       RETURNING ${COLS}, (xmax = 0) AS created`,
      [
        p.kind,
        p.title,
        p.description,
        p.content,
        contentHash(p.kind, p.content),
        p.role ?? null,
        p.keyText,
        `{${(p.sourceTaskIds ?? []).join(",")}}`,
        p.sourceTaskIds?.[0] ?? null,
        p.metadata ?? {},
        p.successCount ?? 0,
        p.failureCount ?? 0,
        vectorLiteral(vector),
        space.model,
        space.dimensions,
      ],
    )
    return { pattern: toPattern(rows[0]!), created: rows[0]!.created === true || rows[0]!.created === "t" }
  }

  /** Fold a near-duplicate into `id`: its source tasks are added. */
  async mergeInto(id: string, sourceTaskIds: readonly string[], metadata: Record<string, unknown> = {}): Promise<Pattern | undefined> {
    const rows = await this.db.query<Row>(
      `UPDATE patterns SET
         source_task_ids = (SELECT coalesce(array_agg(DISTINCT x), '{}') FROM unnest(source_task_ids || $2::uuid[]) AS x),
         metadata = metadata || jsonb_build_object('merges', coalesce((metadata->>'merges')::int, 0) + 1) || $3::jsonb,
         updated_at = now()
       WHERE id = $1 RETURNING ${COLS}`,
      [id, `{${sourceTaskIds.join(",")}}`, metadata],
    )
    return rows[0] ? toPattern(rows[0]) : undefined
  }

  async get(id: string): Promise<Pattern | undefined> {
    const rows = await this.db.query<Row>(`SELECT ${COLS} FROM patterns WHERE id = $1`, [id])
    return rows[0] ? toPattern(rows[0]) : undefined
  }

  async delete(id: string): Promise<boolean> {
    return (await this.db.query(`DELETE FROM patterns WHERE id = $1 RETURNING id`, [id])).length > 0
  }

  async list(o: { limit?: number; offset?: number; kind?: PatternKind } = {}): Promise<{ items: Pattern[]; total: number }> {
    const where = o.kind ? `WHERE kind = $3` : ""
    const params: unknown[] = [o.limit ?? 50, o.offset ?? 0]
    if (o.kind) params.push(o.kind)
    const rows = await this.db.query<Row>(`SELECT ${COLS} FROM patterns ${where} ORDER BY created_at DESC, id LIMIT $1 OFFSET $2`, params)
    const total = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patterns ${o.kind ? "WHERE kind = $1" : ""}`, o.kind ? [o.kind] : [])
    return { items: rows.map(toPattern), total: Number(total[0]!.n) }
  }

  /** The SQL of a nearest-neighbour query in one space (kept in one place so EXPLAIN in the bench checks what runs). */
  searchSql(space: VectorSpace, filter: SearchFilter = {}): { text: string; extra: unknown[] } {
    const e = vectorExpr(space)
    const conds = [spacePredicate(space)]
    const extra: unknown[] = []
    if (filter.kind) {
      extra.push(filter.kind)
      conds.push(`kind = $${extra.length + 2}`)
    }
    if (filter.role) {
      extra.push(filter.role)
      conds.push(`role = $${extra.length + 2}`)
    }
    const text = `SELECT ${COLS}, key_tsv::text AS key_tsv, ${e} <=> $1::vector(${space.dimensions}) AS distance FROM patterns
      WHERE ${conds.join(" AND ")} ORDER BY ${e} <=> $1::vector(${space.dimensions}) LIMIT $2`
    return { text, extra }
  }

  /**
   * Nearest patterns of this space, closest first (cosine similarity = 1 -
   * distance). HNSW searches with ef_search = max(configured, limit) (pgvector
   * returns at most ef_search rows); with a kind or role filter, pgvector's
   * iterative scan goes on past the first candidates until `limit` pass it.
   */
  async search(space: VectorSpace, vector: Float32Array, limit: number, filter: SearchFilter = {}, opts: { exact?: boolean; efSearch?: number } = {}): Promise<Hit[]> {
    const { text, extra } = this.searchSql(space, filter)
    const params = [vectorLiteral(vector), limit, ...extra]
    const run = async (q: Queryable) =>
      (await q.query<Row>(text, params)).map((r) => ({ pattern: toPattern(r), similarity: 1 - Number(r.distance), tsv: (r.key_tsv as string | null) ?? undefined }))
    const ef = opts.efSearch ?? this.hnsw.efSearch
    const settings: string[] = []
    if (opts.exact) settings.push(`SET LOCAL enable_indexscan = off`, `SET LOCAL enable_bitmapscan = off`)
    else if (this.method === "hnsw") {
      const want = Math.max(1, Math.floor(Math.max(ef ?? 40, limit)))
      // pgvector's cost estimate grows with ef_search: after ANALYZE the planner may prefer a sequential scan and a sort
      // (an exact scan, 10x slower at 10k rows; seen in the bench), so the index is forced for this one query
      settings.push(`SET LOCAL enable_seqscan = off`)
      if (want !== 40) settings.push(`SET LOCAL hnsw.ef_search = ${Math.min(want, 1000)}`)
      if (filter.kind || filter.role) settings.push(`SET LOCAL hnsw.iterative_scan = relaxed_order`)
    }
    if (settings.length === 0) return run(this.db)
    const db = this.db as Queryable & { transaction?: <R>(fn: (tx: Queryable) => Promise<R>) => Promise<R> }
    if (!db.transaction) return run(this.db)
    return db.transaction(async (tx) => {
      await tx.exec(settings.join("; "))
      return run(tx)
    })
  }

  /**
   * The patterns of this space sharing a stem with the query (`tsquery`, an
   * OR of stems), best ts_rank first, with their cosine similarity to
   * `vector`: the lexical candidates of the hybrid ranking.
   */
  async lexicalSearch(space: VectorSpace, tsquery: string, vector: Float32Array, limit: number, filter: SearchFilter = {}): Promise<Hit[]> {
    const e = vectorExpr(space)
    const conds = [spacePredicate(space), `key_tsv @@ $3::tsquery`]
    const params: unknown[] = [vectorLiteral(vector), limit, tsquery]
    if (filter.kind) {
      params.push(filter.kind)
      conds.push(`kind = $${params.length}`)
    }
    if (filter.role) {
      params.push(filter.role)
      conds.push(`role = $${params.length}`)
    }
    const rows = await this.db.query<Row>(
      `SELECT ${COLS}, key_tsv::text AS key_tsv, ${e} <=> $1::vector(${space.dimensions}) AS distance FROM patterns
       WHERE ${conds.join(" AND ")} ORDER BY ts_rank(key_tsv, $3::tsquery) DESC, id LIMIT $2`,
      params,
    )
    return rows.map((r) => ({ pattern: toPattern(r), similarity: 1 - Number(r.distance), tsv: (r.key_tsv as string | null) ?? undefined }))
  }

  /** Record the patterns put into a task's prompt (once per task and pattern; a retry keeps the first). */
  async recordUses(taskId: string, uses: readonly { patternId: string; similarity: number; score: number }[]): Promise<void> {
    for (const u of uses) {
      await this.db.query(
        `INSERT INTO pattern_uses (task_id, pattern_id, similarity, score) VALUES ($1, $2, $3, $4) ON CONFLICT (task_id, pattern_id) DO NOTHING`,
        [taskId, u.patternId, u.similarity, u.score],
      )
      await this.db.query(`UPDATE patterns SET last_used_at = now() WHERE id = $1`, [u.patternId])
    }
  }

  /**
   * The task ended: each pattern it used and not yet counted gets one success
   * or one failure. Idempotent (a use is counted once). Returns the patterns moved.
   */
  async settle(taskId: string, success: boolean): Promise<string[]> {
    const outcome = success ? "success" : "failure"
    const col = success ? "success_count" : "failure_count"
    const rows = await this.db.query<{ pattern_id: string }>(
      `WITH done AS (
         UPDATE pattern_uses SET outcome = $2, counted_at = now() WHERE task_id = $1 AND counted_at IS NULL RETURNING pattern_id
       )
       UPDATE patterns p SET ${col} = ${col} + 1, updated_at = now() FROM done WHERE p.id = done.pattern_id RETURNING p.id AS pattern_id`,
      [taskId, outcome],
    )
    return rows.map((r) => String(r.pattern_id))
  }

  async usesOf(taskId: string): Promise<{ patternId: string; similarity: number; outcome: string | null }[]> {
    const rows = await this.db.query<Row>(`SELECT pattern_id, similarity, outcome FROM pattern_uses WHERE task_id = $1 ORDER BY score DESC`, [taskId])
    return rows.map((r) => ({ patternId: String(r.pattern_id), similarity: Number(r.similarity), outcome: (r.outcome as string | null) ?? null }))
  }

  /** Patterns whose vector is missing or of another space than `space` (stale): what backfill/reembed redo. */
  async staleBatch(space: VectorSpace, limit: number, afterId = ""): Promise<Pattern[]> {
    const rows = await this.db.query<Row>(
      `SELECT ${COLS} FROM patterns WHERE NOT (embedding IS NOT NULL AND ${spacePredicate(space)}) AND id::text > $2 ORDER BY id::text LIMIT $1`,
      [limit, afterId],
    )
    return rows.map(toPattern)
  }

  async countStale(space: VectorSpace): Promise<number> {
    const r = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patterns WHERE NOT (embedding IS NOT NULL AND ${spacePredicate(space)})`)
    return Number(r[0]!.n)
  }

  async setVector(id: string, space: VectorSpace, vector: Float32Array): Promise<void> {
    await this.ensureIndex(space)
    await this.db.query(`UPDATE patterns SET embedding = $2::vector, embedding_model = $3, embedding_dim = $4, updated_at = now() WHERE id = $1`, [
      id,
      vectorLiteral(vector),
      space.model,
      space.dimensions,
    ])
  }

  async vectorOf(id: string): Promise<Float32Array | undefined> {
    const r = await this.db.query<{ v: string | null }>(`SELECT embedding::text AS v FROM patterns WHERE id = $1`, [id])
    return r[0]?.v ? parseVector(r[0].v) : undefined
  }

  async stats(space: VectorSpace): Promise<MemoryStats> {
    const [totals] = await this.db.query<Row>(
      `SELECT count(*)::int AS total, coalesce(sum(success_count), 0)::int AS successes, coalesce(sum(failure_count), 0)::int AS failures,
         count(*) FILTER (WHERE last_used_at IS NOT NULL)::int AS used,
         count(*) FILTER (WHERE embedding IS NULL)::int AS unembedded,
         avg(success_rate) AS avg_success_rate
       FROM patterns`,
    )
    const byKind = await this.db.query<{ kind: string; n: number }>(`SELECT kind, count(*)::int AS n FROM patterns GROUP BY kind ORDER BY kind`)
    const byModel = await this.db.query<{ model: string | null; dim: number | null; n: number }>(
      `SELECT embedding_model AS model, embedding_dim AS dim, count(*)::int AS n FROM patterns WHERE embedding IS NOT NULL GROUP BY 1, 2 ORDER BY 3 DESC`,
    )
    const uses = await this.db.query<{ n: number; counted: number }>(`SELECT count(*)::int AS n, count(counted_at)::int AS counted FROM pattern_uses`)
    const current = (m: { model: string | null; dim: number | null }) => m.model === space.model && Number(m.dim) === space.dimensions
    return {
      total: Number(totals!.total),
      byKind: Object.fromEntries(byKind.map((k) => [k.kind, Number(k.n)])),
      successes: Number(totals!.successes),
      failures: Number(totals!.failures),
      avgSuccessRate: totals!.avg_success_rate === null ? null : Number(totals!.avg_success_rate),
      used: Number(totals!.used),
      uses: { total: Number(uses[0]!.n), counted: Number(uses[0]!.counted) },
      model: space.model,
      dimensions: space.dimensions,
      models: byModel.map((m) => ({ model: m.model!, dimensions: Number(m.dim), count: Number(m.n), stale: !current(m) })),
      stale: byModel.filter((m) => !current(m)).reduce((a, m) => a + Number(m.n), 0) + Number(totals!.unembedded),
    }
  }
}

export type MemoryStats = {
  total: number
  byKind: Record<string, number>
  successes: number
  failures: number
  avgSuccessRate: number | null
  /** Patterns put into at least one prompt. */
  used: number
  uses: { total: number; counted: number }
  /** The space searches run in now. */
  model: string
  dimensions: number
  models: { model: string; dimensions: number; count: number; stale: boolean }[]
  /** Patterns with no vector of the current model (not searchable until `cca memory reembed`). */
  stale: number
}
