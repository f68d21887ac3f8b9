import { cosine } from "../embeddings/types"
import { ValidationError } from "../errors"
import type { Queryable } from "../store/sql"
import { queryTerms } from "./text"
import type { ChunkVectors } from "./vectors"

// Code search: lexical candidates from the GIN-indexed tsvector, then one
// score from three signals, each returned with every result:
// - lexical: ts_rank over the weighted tsvector (name/parent/path A,
//   signature B, doc C, body D), normalised to the best candidate;
// - name: the share of query words found in the chunk's name;
// - vector: cosine of the query's and the chunk's vectors (null when the
//   chunk has none of the embedder's space yet, or vectors are off).
// The fusion (weights or RRF, and the candidate pool) is chosen by the dev
// split of `bun run bench codeindex quality`; see DEFAULT_FUSION.

export type SearchInput = { query?: unknown; limit?: unknown; language?: unknown; path?: unknown; kind?: unknown; root?: unknown; mode?: unknown }

export type Fusion =
  /** lexical + name x `name` + cosine x `vector`. */
  | { kind: "weighted"; name: number; vector: number; pool: number }
  /** 1/(k + rank by lexical + name x `name`) + `vector`/(k + rank by cosine). */
  | { kind: "rrf"; k: number; name: number; vector: number; pool: number }

/** Chosen on the dev split (scripts/bench/codeindex-quality.ts prints the grid). */
export const DEFAULT_FUSION: Fusion = { kind: "weighted", name: 0.3, vector: 0.5, pool: 100 }

export type Signals = { lexical: number; name: number; vector: number | null }

export type SearchResult = {
  id: number
  root: string
  path: string
  language: string | null
  name: string | null
  parent: string | null
  kind: string
  signature: string
  start_line: number
  end_line: number
  snippet: string
  score: number
  signals: Signals
}

function field(name: string, message: string): never {
  throw new ValidationError(`${name}: ${message}`, { details: { field: name } })
}

function nameSignal(terms: string[], name: string | null): number {
  const parts = queryTerms(name ?? "")
  if (parts.length === 0 || terms.length === 0) return 0
  return terms.filter((t) => parts.some((p) => p.startsWith(t.slice(0, 5)) || t.startsWith(p.slice(0, 5)))).length / terms.length
}

/** Order candidates by one fusion of their signals (exported for the bench's grid over the dev split). */
export function fuse<T extends { signals: Signals }>(cands: readonly T[], f: Fusion): (T & { score: number })[] {
  const withVec = cands.some((c) => c.signals.vector !== null)
  if (f.kind === "weighted") {
    return cands.map((c) => ({ ...c, score: c.signals.lexical + f.name * c.signals.name + (withVec ? f.vector * (c.signals.vector ?? 0) : 0) })).sort((a, b) => b.score - a.score)
  }
  const lexOrder = [...cands].sort((a, b) => b.signals.lexical + f.name * b.signals.name - (a.signals.lexical + f.name * a.signals.name))
  const lexRank = new Map(lexOrder.map((c, i) => [c, i + 1]))
  const vecRank = new Map([...cands].filter((c) => c.signals.vector !== null).sort((a, b) => b.signals.vector! - a.signals.vector!).map((c, i) => [c, i + 1]))
  return cands
    .map((c) => {
      const vr = vecRank.get(c)
      return { ...c, score: 1 / (f.k + lexRank.get(c)!) + (withVec && vr ? f.vector / (f.k + vr) : 0) }
    })
    .sort((a, b) => b.score - a.score)
}

export type SearchOptions = { fusion?: Fusion; /** all candidates of the pool, unordered by fusion (the bench) */ all?: boolean }

export async function searchCode(db: Queryable, vectors: ChunkVectors | undefined, input: SearchInput, opts: SearchOptions = {}) {
  if (input === null || typeof input !== "object") field("query", "is required")
  if (typeof input.query !== "string" || input.query.trim() === "") field("query", "is required: words or a name to look for")
  const limit = input.limit === undefined ? 10 : typeof input.limit === "number" && Number.isInteger(input.limit) && input.limit >= 1 && input.limit <= 100 ? input.limit : field("limit", "must be a whole number from 1 to 100")
  for (const k of ["language", "path", "kind", "root"] as const) if (input[k] !== undefined && typeof input[k] !== "string") field(k, "must be a string")
  if (input.mode !== undefined && input.mode !== "lexical" && input.mode !== "hybrid") field("mode", 'must be "lexical" or "hybrid"')
  const fusion = opts.fusion ?? DEFAULT_FUSION
  const terms = queryTerms(input.query)
  const useVectors = !!vectors && input.mode !== "lexical" && fusion.vector > 0
  if (terms.length === 0) return { results: [] as SearchResult[], terms, search_type: "lexical" as const }
  const params: unknown[] = [terms.join(" | ")]
  const where: string[] = ["c.tsv @@ q.q"]
  if (input.language) where.push(`c.language = $${params.push(input.language)}`)
  if (input.kind) where.push(`c.kind = $${params.push(input.kind)}`)
  if (input.root) where.push(`c.root = $${params.push(input.root)}`)
  if (input.path) where.push(`c.path LIKE $${params.push(`${String(input.path).replace(/[%_\\]/g, "\\$&")}%`)}`)
  const pool = Math.max(limit * 2, fusion.pool)
  const rows = await db.query<{ id: string | number; root: string; path: string; language: string | null; kind: string; name: string | null; parent: string | null; signature: string; start_line: number; end_line: number; content: string; lexical: number }>(
    `WITH q AS (SELECT to_tsquery('english', $1) AS q)
     SELECT c.id, c.root, c.path, c.language, c.kind, c.name, c.parent, c.signature, c.start_line, c.end_line, left(c.content, 600) AS content,
            ts_rank('{0.2, 0.6, 0.5, 1.0}', c.tsv, q.q, 1) AS lexical
     FROM codeindex_chunks c, q WHERE ${where.join(" AND ")} ORDER BY lexical DESC LIMIT ${pool}`,
    params,
  )
  const top = rows.reduce((m, r) => Math.max(m, Number(r.lexical)), 0) || 1
  let stored = new Map<number, Float32Array>()
  let qv: Float32Array | undefined
  if (useVectors && rows.length > 0) {
    stored = await vectors.get(rows.map((r) => Number(r.id)))
    // No candidate has a vector yet (still embedding, or vectors just turned on): do not wait for a model to load.
    if (stored.size > 0) qv = await vectors.embedQuery(input.query)
  }
  const cands: SearchResult[] = rows.map((r) => {
    const id = Number(r.id)
    const v = qv ? stored.get(id) : undefined
    return {
      id,
      root: r.root,
      path: r.path,
      language: r.language,
      name: r.name,
      parent: r.parent,
      kind: r.kind,
      signature: r.signature,
      start_line: r.start_line,
      end_line: r.end_line,
      snippet: r.content.split("\n").slice(0, 12).join("\n"),
      score: 0,
      signals: { lexical: Number(r.lexical) / top, name: nameSignal(terms, r.name), vector: v && qv ? cosine(qv, v) : null },
    }
  })
  const ranked = fuse(cands, fusion)
  return { results: opts.all ? ranked : ranked.slice(0, limit), terms, search_type: qv ? ("hybrid" as const) : ("lexical" as const) }
}
