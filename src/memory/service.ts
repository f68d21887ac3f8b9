import type { MemorySection } from "../config/schema"
import type { Embedder } from "../embeddings/types"
import { NotFoundError, ValidationError } from "../errors"
import type { Logger } from "../log"
import type { Queryable } from "../store/sql"
import { requireVectors, type VectorSupport } from "../store/vector-support"
import { spacePredicate } from "../store/vectors"
import { KINDS, PatternRepo, type Hit, type MemoryStats, type Pattern, type PatternKind } from "./repo"
import { anyOf, bm25, Lexicon, parseTsvector } from "./lexical"

// The ReasoningBank's domain functions: what the routes, the CLI (through the
// routes), MCP, the prompt stage and the end hook all call. Every search
// embeds the query with the daemon's one embedder and compares it only with
// vectors of that embedder's space; a provider that is down is its 503, never
// a switch to text matching. Patterns of another model are stale until
// `reembed` gives them a vector of the current one.

export type SearchInput = { query: string; limit?: number; kind?: string; role?: string; min_similarity?: number }
export type StoreInput = { content: string; title?: string; description?: string; kind?: string; role?: string | null; metadata?: Record<string, unknown>; source_task_ids?: string[]; when?: string }

export type PatternJson = {
  id: string
  kind: PatternKind
  title: string
  description: string
  content: string
  role: string | null
  source_task_ids: string[]
  success_count: number
  failure_count: number
  success_rate: number | null
  model: string | null
  dimensions: number | null
  stale: boolean
  metadata: Record<string, unknown>
  created_at: string
  updated_at: string
  last_used_at: string | null
}

/** `lexical`: the pattern's BM25 over the best BM25 among the candidates (0..1). */
export type ScoredHit = Hit & { lexical: number; bm25: number; score: number }

export type ReembedJob = {
  id: string
  status: "running" | "completed" | "failed"
  model: string
  total: number
  done: number
  error?: string
  startedAt: string
  finishedAt?: string
}

/**
 * Memory as `cca status` shows it. `state`: off (`[memory] enabled = false`),
 * unavailable (no pgvector), down (the provider is down, or the last memory
 * operation failed and none worked since: `error` says why), unused (the
 * embedder not called yet), ok.
 */
export type MemoryStatus = {
  state: "off" | "unavailable" | "down" | "unused" | "ok"
  enabled: boolean
  provider: string
  model: string
  kind: string
  dimensions: number
  search_type: string
  index: string
  patterns: number | null
  stale: number | null
  error?: string
  /** Failed memory operations (search, store, the prompt stage, the end hook) since start; the last one with where and when. */
  errors: number
  last_error?: { at: string; where: string; message: string }
}

export type MemoryCounts = { patterns: number | null; stale: number | null; error?: string }

export const DEFAULT_MEMORY: MemorySection = {
  enabled: true,
  distiller: "extractive",
  max_items: 3,
  top_k: 1,
  min_similarity: 0.5,
  merge_similarity: 0.92,
  lexical_weight: 0.5,
  max_content_chars: 20_000,
  index: "hnsw",
  hnsw_m: 16,
  hnsw_ef_construction: 64,
  ef_search: 200,
}

/** Success rate with one imagined success and one failure: 0.5 for an unused pattern, never 0 or 1. */
export function smoothedRate(success: number, failure: number): number {
  return (success + 1) / (success + failure + 2)
}

function field(name: string, message: string, details: Record<string, unknown> = {}, hint?: string): never {
  throw new ValidationError(`${name}: ${message}`, { hint, details: { field: name, ...details } })
}

export function checkKind(kind: unknown, name = "kind"): PatternKind {
  if (typeof kind === "string" && (KINDS as readonly string[]).includes(kind)) return kind as PatternKind
  return field(name, `must be one of ${KINDS.join(", ")}, not ${JSON.stringify(kind)}`, { allowed: KINDS })
}

function checkText(name: string, value: unknown, max: number, required: boolean): string | undefined {
  if (value === undefined || value === null) return required ? field(name, "is required") : undefined
  if (typeof value !== "string") return field(name, "must be a string")
  const t = value.trim()
  if (required && t === "") return field(name, "must not be empty")
  if (value.length > max) return field(name, `is ${value.length} characters; the limit is ${max}`, { max }, "shorten it, or raise [memory] max_content_chars")
  return t
}

function checkLimit(v: unknown, max = 100): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) return field("limit", `must be a whole number from 1 to ${max}, not ${JSON.stringify(v)}`, { min: 1, max })
  return v
}

export class MemoryService {
  readonly repo: PatternRepo
  readonly config: MemorySection
  readonly lexicon: Lexicon
  private readonly jobs = new Map<string, ReembedJob>()
  private failures = 0
  private lastError: { at: string; where: string; message: string } | undefined
  private lastOkAt = 0

  constructor(
    private readonly o: { db: Queryable; embedder: Embedder; vectors: VectorSupport; config?: Partial<MemorySection>; log?: Logger },
  ) {
    this.config = { ...DEFAULT_MEMORY, ...o.config }
    this.repo = new PatternRepo(o.db, this.config.index, 1000, {
      m: this.config.hnsw_m,
      efConstruction: this.config.hnsw_ef_construction,
      efSearch: this.config.ef_search,
    })
    this.lexicon = new Lexicon(o.db)
  }

  get embedder(): Embedder {
    return this.o.embedder
  }

  get available(): boolean {
    return this.o.vectors.available
  }

  private need(feature: string): void {
    requireVectors(this.o.vectors, feature)
  }

  json(p: Pattern): PatternJson {
    const space = this.o.embedder.space
    return {
      id: p.id,
      kind: p.kind,
      title: p.title,
      description: p.description,
      content: p.content,
      role: p.role,
      source_task_ids: p.sourceTaskIds,
      success_count: p.successCount,
      failure_count: p.failureCount,
      success_rate: p.successRate,
      model: p.model,
      dimensions: p.dimensions,
      stale: p.model !== space.model || p.dimensions !== space.dimensions,
      metadata: p.metadata,
      created_at: p.createdAt.toISOString(),
      updated_at: p.updatedAt.toISOString(),
      last_used_at: p.lastUsedAt?.toISOString() ?? null,
    }
  }

  /**
   * The hybrid ranking. Candidates: the nearest patterns by vector (several
   * times `limit`) and, when the lexical weight is on, the patterns sharing
   * the most stems with the query; each scored (1 - w) * cosine + w * its
   * BM25 over the best BM25 among the candidates (lexical.ts).
   */
  async rank(query: string, limit: number, filter: { kind?: PatternKind; role?: string } = {}, minSimilarity = 0): Promise<ScoredHit[]> {
    this.need("memory search")
    return this.track("search", () => this.ranked(query, limit, filter, minSimilarity))
  }

  /** A failure of a memory operation is counted and kept for `cca status` (then rethrown): never silent. */
  async track<T>(where: string, fn: () => Promise<T>): Promise<T> {
    try {
      const r = await fn()
      this.lastOkAt = Date.now()
      return r
    } catch (e) {
      this.noteError(where, e)
      throw e
    }
  }

  noteError(where: string, e: unknown): void {
    this.failures++
    this.lastError = { at: new Date().toISOString(), where, message: e instanceof Error ? e.message : String(e) }
  }

  /** The pattern counts of `cca status` (the daemon caches them for a second; the state is read live by `status`). */
  async counts(): Promise<MemoryCounts> {
    if (!this.o.vectors.available) return { patterns: null, stale: null }
    try {
      const [r] = await this.o.db.query<{ n: number; stale: number }>(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE NOT (embedding IS NOT NULL AND ${spacePredicate(this.o.embedder.space)}))::int AS stale FROM patterns`,
      )
      return { patterns: Number(r!.n), stale: Number(r!.stale) }
    } catch (e) {
      return { patterns: null, stale: null, error: `patterns unreadable: ${(e as Error).message}` }
    }
  }

  /** What `cca status` shows of memory (see MemoryStatus). */
  status(counts: MemoryCounts): MemoryStatus {
    const h = this.o.embedder.health()
    const base = {
      enabled: this.config.enabled,
      provider: h.provider,
      model: h.model,
      kind: h.kind,
      dimensions: h.dimensions,
      search_type: this.config.lexical_weight > 0 ? "hybrid" : "vector",
      index: this.config.index,
      patterns: counts.patterns,
      stale: counts.stale,
      errors: this.failures,
      ...(this.lastError ? { last_error: this.lastError } : {}),
    }
    if (!this.o.vectors.available) return { ...base, state: "unavailable", error: this.o.vectors.reason ?? "the server has no pgvector" }
    const failedLast = this.lastError && Date.parse(this.lastError.at) >= this.lastOkAt
    const error =
      h.state === "down" ? `${h.provider} embeddings down: ${h.error ?? "unknown error"}` : (counts.error ?? (failedLast ? `${this.lastError!.where} failed: ${this.lastError!.message}` : undefined))
    const state = error ? "down" : !this.config.enabled ? "off" : h.state === "unused" ? "unused" : "ok"
    return { ...base, state, ...(error ? { error } : {}) }
  }

  private async ranked(query: string, limit: number, filter: { kind?: PatternKind; role?: string }, minSimilarity: number): Promise<ScoredHit[]> {
    const [v] = await this.o.embedder.embed([query], { purpose: "query" })
    const space = this.o.embedder.space
    const pool = Math.max(limit * 5, 20)
    const w = this.config.lexical_weight
    const hits = await this.repo.search(space, v!, pool, filter)
    let scored: ScoredHit[] = hits.map((h) => ({ ...h, lexical: 0, bm25: 0, score: h.similarity }))
    if (w > 0) {
      const stems = await this.lexicon.stems(query)
      if (stems.length > 0) {
        const lexical = await this.repo.lexicalSearch(space, anyOf(stems), v!, pool, filter)
        const seen = new Set(hits.map((h) => h.pattern.id))
        const all = [...hits, ...lexical.filter((h) => !seen.has(h.pattern.id))]
        const stats = await this.lexicon.stats(space, stems)
        const raw = all.map((h) => bm25(stems, parseTsvector(h.tsv), stats))
        const top = Math.max(0, ...raw)
        scored = all.map((h, i) => {
          const lex = top > 0 ? raw[i]! / top : 0
          return { ...h, lexical: lex, bm25: raw[i]!, score: (1 - w) * h.similarity + w * lex }
        })
      }
    }
    return scored
      .filter((h) => h.similarity >= minSimilarity)
      .sort((a, b) => b.score - a.score)
      .slice(0, limit)
  }

  async search(input: SearchInput) {
    if (input === null || typeof input !== "object") field("query", "is required")
    const query = checkText("query", input.query, 10_000, true)!
    const limit = checkLimit(input.limit) ?? 10
    const kind = input.kind === undefined ? undefined : checkKind(input.kind)
    const role = checkText("role", input.role, 200, false) || undefined
    const min = input.min_similarity
    if (min !== undefined && (typeof min !== "number" || !(min >= -1 && min <= 1))) field("min_similarity", `must be a number from -1 to 1, not ${JSON.stringify(min)}`, { min: -1, max: 1 })
    const hits = await this.rank(query, limit, { kind, role }, min ?? 0)
    return {
      patterns: hits.map((h) => ({ ...this.json(h.pattern), similarity: h.similarity, score: h.score })),
      model: this.o.embedder.model,
      kind: this.o.embedder.kind,
      search_type: this.config.lexical_weight > 0 ? "hybrid" : "vector",
    }
  }

  /** The text a pattern is found by: where it came from and what it is for, not its whole content. */
  static keyText(p: { when?: string; title?: string; description?: string; content: string }): string {
    const parts = [p.when, p.title, p.description].map((s) => s?.trim()).filter(Boolean)
    return (parts.length ? parts.join(". ") : p.content).slice(0, 2000)
  }

  /** Store one pattern (or merge it into a near-duplicate of its kind). */
  async store(input: StoreInput): Promise<{ pattern: Pattern; created: boolean; merged: boolean; similarity?: number }> {
    return this.stored(input)
  }

  private async stored(input: StoreInput): Promise<{ pattern: Pattern; created: boolean; merged: boolean; similarity?: number }> {
    if (input === null || typeof input !== "object") field("content", "is required")
    const content = checkText("content", input.content, this.config.max_content_chars, true)!
    const title = checkText("title", input.title, 500, false) ?? content.split("\n")[0]!.slice(0, 120)
    const description = checkText("description", input.description, 2000, false) ?? ""
    const kind = input.kind === undefined ? "solution" : checkKind(input.kind)
    const role = checkText("role", input.role, 200, false) || null
    if (input.metadata !== undefined && (typeof input.metadata !== "object" || input.metadata === null || Array.isArray(input.metadata))) field("metadata", "must be an object")
    const sources = input.source_task_ids ?? []
    this.need("memory")
    const keyText = MemoryService.keyText({ when: input.when, title, description, content })
    return this.track("store", () => this.write({ kind, title, description, content, role, keyText, sources, metadata: input.metadata ?? {} }))
  }

  private async write(p: { kind: PatternKind; title: string; description: string; content: string; role: string | null; keyText: string; sources: string[]; metadata: Record<string, unknown> }) {
    const { kind, title, description, content, role, keyText, sources } = p
    const [v] = await this.o.embedder.embed([keyText], { purpose: "document" })
    const space = this.o.embedder.space
    const near = (await this.repo.search(space, v!, 1, { kind }))[0]
    if (near && near.similarity >= this.config.merge_similarity) {
      const merged = await this.repo.mergeInto(near.pattern.id, sources)
      if (merged) return { pattern: merged, created: false, merged: true, similarity: near.similarity }
    }
    const r = await this.repo.insert({ kind, title, description, content, role, keyText, sourceTaskIds: sources, metadata: p.metadata }, space, v!)
    this.lexicon.invalidate()
    return { pattern: r.pattern, created: r.created, merged: !r.created }
  }

  async get(id: string): Promise<Pattern> {
    const p = /^[0-9a-f-]{36}$/i.test(id) ? await this.repo.get(id) : undefined
    if (!p) throw new NotFoundError(`no pattern ${id}`, { hint: "list them with `cca memory list`" })
    return p
  }

  async delete(id: string): Promise<void> {
    if (!(/^[0-9a-f-]{36}$/i.test(id) && (await this.repo.delete(id)))) throw new NotFoundError(`no pattern ${id}`, { hint: "list them with `cca memory list`" })
    this.lexicon.invalidate()
  }

  async list(o: { limit?: number; offset?: number; kind?: string }) {
    const kind = o.kind === undefined ? undefined : checkKind(o.kind)
    const limit = checkLimit(o.limit, 1000) ?? 50
    const r = await this.repo.list({ limit, offset: o.offset, kind })
    return { patterns: r.items.map((p) => this.json(p)), total: r.total }
  }

  async stats(): Promise<MemoryStats & { enabled: boolean; provider: string; embedding_kind: string; search_type: string; index: string }> {
    this.need("memory")
    const s = await this.repo.stats(this.o.embedder.space)
    return {
      ...s,
      enabled: this.config.enabled,
      provider: this.o.embedder.provider,
      embedding_kind: this.o.embedder.kind,
      search_type: this.config.lexical_weight > 0 ? "hybrid" : "vector",
      index: this.config.index,
    }
  }

  /** Give every pattern without a vector of the current model one (synchronously, up to `limit`). */
  async backfill(limit = 1000): Promise<{ embedded: number; remaining: number; model: string }> {
    this.need("memory")
    let embedded = 0
    const space = this.o.embedder.space
    let after = ""
    while (embedded < limit) {
      const batch = await this.repo.staleBatch(space, Math.min(32, limit - embedded), after)
      if (batch.length === 0) break
      const vs = await this.o.embedder.embed(batch.map((p) => p.keyText || p.content), { purpose: "document" })
      for (let i = 0; i < batch.length; i++) await this.repo.setVector(batch[i]!.id, space, vs[i]!)
      embedded += batch.length
      after = batch.at(-1)!.id
    }
    return { embedded, remaining: await this.repo.countStale(space), model: space.model }
  }

  /** Re-embed stale patterns in the background; the job's progress is read with `job(id)`. */
  async reembed(): Promise<ReembedJob> {
    this.need("memory")
    const space = this.o.embedder.space
    const job: ReembedJob = { id: crypto.randomUUID(), status: "running", model: space.model, total: await this.repo.countStale(space), done: 0, startedAt: new Date().toISOString() }
    this.jobs.set(job.id, job)
    void (async () => {
      let after = ""
      for (;;) {
        const batch = await this.repo.staleBatch(space, 32, after)
        if (batch.length === 0) break
        const vs = await this.o.embedder.embed(batch.map((p) => p.keyText || p.content), { purpose: "document" })
        for (let i = 0; i < batch.length; i++) await this.repo.setVector(batch[i]!.id, space, vs[i]!)
        job.done += batch.length
        after = batch.at(-1)!.id
      }
    })().then(
      () => {
        job.status = "completed"
        job.finishedAt = new Date().toISOString()
      },
      (e: unknown) => {
        job.status = "failed"
        job.error = (e as Error).message
        job.finishedAt = new Date().toISOString()
        this.o.log?.warn(`memory reembed failed: ${job.error}`)
      },
    )
    return { ...job }
  }

  job(id: string): ReembedJob {
    const j = this.jobs.get(id)
    if (!j) throw new NotFoundError(`no reembed job ${id}`, { hint: "start one with `cca memory reembed`" })
    return { ...j }
  }
}
