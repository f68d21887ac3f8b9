import type { MemorySection } from "../config/schema"
import type { Embedder } from "../embeddings/types"
import { NotFoundError, ValidationError } from "../errors"
import type { Logger } from "../log"
import type { Queryable } from "../store/sql"
import { requireVectors, type VectorSupport } from "../store/vector-support"
import { KINDS, PatternRepo, type Hit, type MemoryStats, type Pattern, type PatternKind } from "./repo"
import { lexicalSimilarity } from "./text"

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

export type ScoredHit = Hit & { lexical: number; score: number }

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
  private readonly jobs = new Map<string, ReembedJob>()

  constructor(
    private readonly o: { db: Queryable; embedder: Embedder; vectors: VectorSupport; config?: Partial<MemorySection>; log?: Logger },
  ) {
    this.config = { ...DEFAULT_MEMORY, ...o.config }
    this.repo = new PatternRepo(o.db, this.config.index)
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
   * Candidates by vector (several times `limit`), re-ranked by
   * (1 - w) * cosine + w * shared words with the pattern's "when to use" text.
   */
  async rank(query: string, limit: number, filter: { kind?: PatternKind; role?: string } = {}, minSimilarity = 0): Promise<ScoredHit[]> {
    this.need("memory search")
    const [v] = await this.o.embedder.embed([query], { purpose: "query" })
    const pool = Math.max(limit * 5, 20)
    const hits = await this.repo.search(this.o.embedder.space, v!, pool, filter, { efSearch: pool > 40 ? pool : undefined })
    const w = this.config.lexical_weight
    return hits
      .map((h) => {
        const lexical = w > 0 ? lexicalSimilarity(query, h.pattern.keyText || h.pattern.title) : 0
        return { ...h, lexical, score: (1 - w) * h.similarity + w * lexical }
      })
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
    const [v] = await this.o.embedder.embed([keyText], { purpose: "document" })
    const space = this.o.embedder.space
    const near = (await this.repo.search(space, v!, 1, { kind }))[0]
    if (near && near.similarity >= this.config.merge_similarity) {
      const merged = await this.repo.mergeInto(near.pattern.id, sources)
      if (merged) return { pattern: merged, created: false, merged: true, similarity: near.similarity }
    }
    const r = await this.repo.insert({ kind, title, description, content, role, keyText, sourceTaskIds: sources, metadata: input.metadata ?? {} }, space, v!)
    return { pattern: r.pattern, created: r.created, merged: !r.created }
  }

  async get(id: string): Promise<Pattern> {
    const p = /^[0-9a-f-]{36}$/i.test(id) ? await this.repo.get(id) : undefined
    if (!p) throw new NotFoundError(`no pattern ${id}`, { hint: "list them with `cca memory list`" })
    return p
  }

  async delete(id: string): Promise<void> {
    if (!(/^[0-9a-f-]{36}$/i.test(id) && (await this.repo.delete(id)))) throw new NotFoundError(`no pattern ${id}`, { hint: "list them with `cca memory list`" })
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
