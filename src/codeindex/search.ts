import { cosine } from "../embeddings/types"
import { ValidationError } from "../errors"
import type { Queryable } from "../store/sql"
import { queryTerms } from "./text"
import type { ChunkVectors } from "./vectors"

// Code search: lexical candidates from the GIN-indexed tsvector (the best
// `pool` by ts_rank among rows with the rarer query words, or all of them),
// then one score from three signals, each returned with every result:
// - lexical: BM25F over the weighted tsvector (name/parent/path A,
//   signature B, doc C, body D; idf from cached document counts),
//   normalised to the best candidate;
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

/** Chosen on the dev split with local:use-lite vectors (best of 120 by MRR@10: 0.570; pools 50/100/200 tied, so the cheapest). `bun run bench codeindex quality` prints the grid. */
export const DEFAULT_FUSION: Fusion = { kind: "weighted", name: 0.5, vector: 0.5, pool: 50 }

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

/** BM25F over the tsvector's weights: A name/parent/path, B signature, C doc comment, D body. */
const FIELD_WEIGHT = { A: 3, B: 2, C: 1.5, D: 1 }
const BM25 = { k1: 1.2, b: 0.75 }
/** At most about this many rows are ranked by the candidate query (see searchCode). */
const CANDIDATE_ROWS = 4000

/**
 * Corpus statistics for BM25: chunk count, mean tsvector length, and each
 * word's lexeme and document count, cached until an index job changes the
 * chunks (`invalidate`). Counts are over all roots (a filter narrows the
 * candidates, not the statistics).
 */
export class LexStats {
  n = 0
  avgLen = 0
  private fresh = false
  private readonly df = new Map<string, number>()
  private readonly lexeme = new Map<string, string | null>()

  invalidate(): void {
    this.fresh = false
    this.df.clear()
  }

  async lexemes(db: Queryable, terms: string[]): Promise<{ term: string; lexeme: string; df: number }[]> {
    if (!this.fresh) {
      const [r] = await db.query<{ n: number; avg: number | null }>("SELECT count(*)::int AS n, avg(length(tsv))::float8 AS avg FROM codeindex_chunks")
      this.n = r!.n
      this.avgLen = Number(r!.avg ?? 0)
      this.fresh = true
    }
    const unknown = terms.filter((t) => !this.lexeme.has(t))
    if (unknown.length) {
      const rows = await db.query<{ t: string; q: string }>("SELECT t, to_tsquery('english', t)::text AS q FROM unnest($1::text[]) t", [unknown])
      // A stop word has no lexeme; a term is [a-z0-9]+, so one lexeme at most.
      for (const r of rows) this.lexeme.set(r.t, r.q ? r.q.replace(/^'|'$/g, "").replaceAll("''", "'") : null)
    }
    const out: { term: string; lexeme: string; df: number }[] = []
    const seen = new Set<string>()
    for (const t of terms) {
      const lexeme = this.lexeme.get(t)
      if (!lexeme || seen.has(lexeme)) continue
      seen.add(lexeme)
      let df = this.df.get(lexeme)
      if (df === undefined) {
        const [r] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM codeindex_chunks WHERE tsv @@ $1::tsquery", [`'${lexeme.replaceAll("'", "''")}'`])
        this.df.set(lexeme, (df = r!.n))
      }
      if (df > 0) out.push({ term: t, lexeme, df })
    }
    return out
  }
}

export async function searchCode(db: Queryable, vectors: ChunkVectors | undefined, stats: LexStats, input: SearchInput, opts: SearchOptions = {}) {
  if (input === null || typeof input !== "object") field("query", "is required")
  if (typeof input.query !== "string" || input.query.trim() === "") field("query", "is required: words or a name to look for")
  const limit = input.limit === undefined ? 10 : typeof input.limit === "number" && Number.isInteger(input.limit) && input.limit >= 1 && input.limit <= 100 ? input.limit : field("limit", "must be a whole number from 1 to 100")
  for (const k of ["language", "path", "kind", "root"] as const) if (input[k] !== undefined && typeof input[k] !== "string") field(k, "must be a string")
  if (input.mode !== undefined && input.mode !== "lexical" && input.mode !== "hybrid") field("mode", 'must be "lexical" or "hybrid"')
  const fusion = opts.fusion ?? DEFAULT_FUSION
  const terms = queryTerms(input.query)
  const useVectors = !!vectors && input.mode !== "lexical" && fusion.vector > 0
  if (terms.length === 0) return { results: [] as SearchResult[], terms, search_type: "lexical" as const }
  const lex = await stats.lexemes(db, terms)
  if (lex.length === 0) return { results: [] as SearchResult[], terms, search_type: "lexical" as const }
  // Candidates: rows with any of the rarer words (while their document counts add up to at most
  // CANDIDATE_ROWS), or with all the words. Common words still score, they just do not pull in
  // every chunk that has them: what bounds the rows ranked at 100k chunks.
  const byDf = [...lex].sort((a, b) => a.df - b.df)
  const gen: string[] = []
  let rowsSoFar = 0
  for (const l of byDf) {
    if (gen.length > 0 && rowsSoFar + l.df > CANDIDATE_ROWS) break
    gen.push(l.lexeme)
    rowsSoFar += l.df
  }
  const quote = (x: string) => `'${x.replaceAll("'", "''")}'`
  const tsq = [...gen.map(quote), ...(gen.length < lex.length ? [`(${lex.map((l) => quote(l.lexeme)).join(" & ")})`] : [])].join(" | ")
  const params: unknown[] = [tsq, lex.map((l) => l.lexeme)]
  const where: string[] = ["c.tsv @@ q.q"]
  if (input.language) where.push(`c.language = $${params.push(input.language)}`)
  if (input.kind) where.push(`c.kind = $${params.push(input.kind)}`)
  if (input.root) where.push(`c.root = $${params.push(input.root)}`)
  if (input.path) where.push(`c.path LIKE $${params.push(`${String(input.path).replace(/[%_\\]/g, "\\$&")}%`)}`)
  const pool = Math.max(limit * 2, fusion.pool)
  const rows = await db.query<{ id: string | number; root: string; path: string; language: string | null; kind: string; name: string | null; parent: string | null; signature: string; start_line: number; end_line: number; content: string; len: number; tf: [string, string[]][] | null }>(
    `WITH q AS (SELECT $1::tsquery AS q),
     top AS (SELECT c.id, ts_rank('{0.2, 0.6, 0.5, 1.0}', c.tsv, q.q, 1) AS r FROM codeindex_chunks c, q WHERE ${where.join(" AND ")} ORDER BY r DESC LIMIT ${pool})
     SELECT c.id, c.root, c.path, c.language, c.kind, c.name, c.parent, c.signature, c.start_line, c.end_line, left(c.content, 600) AS content, length(c.tsv) AS len,
            (SELECT json_agg(json_build_array(u.lexeme, u.weights)) FROM unnest(c.tsv) u WHERE u.lexeme = ANY($2::text[])) AS tf
     FROM top JOIN codeindex_chunks c ON c.id = top.id`,
    params,
  )
  const idf = new Map(lex.map((l) => [l.lexeme, Math.log(1 + (stats.n - l.df + 0.5) / (l.df + 0.5))]))
  const bm25f = (r: (typeof rows)[number]) => {
    let score = 0
    const norm = BM25.k1 * (1 - BM25.b + (BM25.b * Number(r.len)) / (stats.avgLen || 1))
    for (const [lexeme, weights] of r.tf ?? []) {
      let tf = 0
      for (const w of weights) tf += FIELD_WEIGHT[w as keyof typeof FIELD_WEIGHT] ?? 1
      score += (idf.get(lexeme) ?? 0) * (tf * (BM25.k1 + 1)) / (tf + norm)
    }
    return score
  }
  const scored = rows.map((r) => ({ r, lexical: bm25f(r) }))
  const top = scored.reduce((m, x) => Math.max(m, x.lexical), 0) || 1
  let stored = new Map<number, Float32Array>()
  let qv: Float32Array | undefined
  if (useVectors && scored.length > 0) {
    stored = await vectors.get(scored.map((x) => Number(x.r.id)))
    // No candidate has a vector yet (still embedding, or vectors just turned on): do not wait for a model to load.
    if (stored.size > 0) qv = await vectors.embedQuery(input.query)
  }
  const cands: SearchResult[] = scored.map(({ r, lexical }) => {
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
      signals: { lexical: lexical / top, name: nameSignal(terms, r.name), vector: v && qv ? cosine(qv, v) : null },
    }
  })
  const ranked = fuse(cands, fusion)
  return { results: opts.all ? ranked : ranked.slice(0, limit), terms, search_type: qv ? ("hybrid" as const) : ("lexical" as const) }
}
