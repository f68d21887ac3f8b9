import type { Queryable } from "../store/sql"
import { spacePredicate, type VectorSpace } from "../store/vectors"

// The lexical half of the hybrid ranking: BM25 over PostgreSQL's English
// stems (the Snowball stemmer of to_tsvector('english')), read from each
// pattern's generated `key_tsv` (migration 0011: key text weight A, content
// weight D).
//
// Problem: ts_rank has no inverse document frequency, so a word every
// pattern shares ranks like a rare one; the word overlap used before (Dice
// over hand-made stems) had the same flaw and a weaker stemmer.
// Fix: the query's stems come from the same to_tsvector; document
// frequencies are counted exactly for the query's stems only (one GIN-backed
// count over the patterns that share a stem), the corpus size and mean
// length are cached for a minute; BM25 itself is computed here over the
// candidates' tsvectors, a content stem counting `CONTENT_WEIGHT` of a key stem.

export const K1 = 1.2
export const B = 0.75
/** What a stem of the content (weight D) counts next to one of the key text (weights A-C). */
export const CONTENT_WEIGHT = 0.3

/** A pattern's stems with their weighted counts; its length, for BM25, is its number of distinct stems (as PostgreSQL's length(tsvector)). */
export type Doc = { tf: Map<string, number> }

/** pgvector-free parse of a tsvector's text form: `'word':1A,5 'it''s':3`. A position without a letter is weight D. */
export function parseTsvector(text: string | null | undefined): Doc {
  const tf = new Map<string, number>()
  if (!text) return { tf }
  for (const m of text.matchAll(/'((?:[^']|'')*)'(?::([0-9A-D,]+))?/g)) {
    const word = m[1]!.replaceAll("''", "'")
    const positions = m[2] ? m[2].split(",") : ["1"]
    let f = 0
    for (const p of positions) f += /[ABC]$/.test(p) ? 1 : CONTENT_WEIGHT
    tf.set(word, (tf.get(word) ?? 0) + f)
  }
  return { tf }
}

/** A tsquery matching any of the stems: `'a' | 'b'` (quoted, so no stem is read as an operator). */
export function anyOf(stems: readonly string[]): string {
  return stems.map((s) => `'${s.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`).join(" | ")
}

export type CorpusStats = { n: number; avgLength: number; df: Map<string, number> }

export function bm25(query: readonly string[], doc: Doc, stats: CorpusStats): number {
  if (doc.tf.size === 0 || stats.n === 0) return 0
  let s = 0
  const norm = K1 * (1 - B + (B * doc.tf.size) / Math.max(stats.avgLength, 1e-9))
  for (const t of query) {
    const f = doc.tf.get(t)
    if (!f) continue
    const n = Math.min(stats.df.get(t) ?? 1, stats.n)
    const idf = Math.log(1 + (stats.n - n + 0.5) / (n + 0.5))
    s += (idf * f * (K1 + 1)) / (f + norm)
  }
  return s
}

/** The corpus side of BM25 for one space, with the size and mean length cached. */
export class Lexicon {
  private cached = new Map<string, { at: number; n: number; avgLength: number }>()

  constructor(
    private readonly db: Queryable,
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** A write changed the corpus: the next search counts again. */
  invalidate(): void {
    this.cached.clear()
  }

  /** The query's distinct stems, by the same stemmer as the patterns'. */
  async stems(query: string): Promise<string[]> {
    const r = await this.db.query<{ v: string }>(`SELECT to_tsvector('english', $1)::text AS v`, [query])
    return [...parseTsvector(r[0]?.v).tf.keys()]
  }

  async stats(space: VectorSpace, stems: readonly string[]): Promise<CorpusStats> {
    const key = `${space.model}\0${space.dimensions}`
    let c = this.cached.get(key)
    if (!c || this.now() - c.at > this.ttlMs) {
      const [r] = await this.db.query<{ n: number; len: number | null }>(
        `SELECT count(*)::int AS n, avg(length(key_tsv))::float8 AS len FROM patterns WHERE ${spacePredicate(space)}`,
      )
      c = { at: this.now(), n: Number(r!.n), avgLength: Number(r!.len ?? 0) }
      this.cached.set(key, c)
    }
    const df = new Map<string, number>()
    if (stems.length) {
      const cols = stems.map((_, i) => `count(*) FILTER (WHERE key_tsv @@ $${i + 2}::tsquery)::int AS d${i}`).join(", ")
      const [r] = await this.db.query<Record<string, number>>(
        `SELECT ${cols} FROM patterns WHERE ${spacePredicate(space)} AND key_tsv @@ $1::tsquery`,
        [anyOf(stems), ...stems.map((s) => anyOf([s]))],
      )
      stems.forEach((s, i) => df.set(s, Number(r?.[`d${i}`] ?? 0)))
    }
    return { n: c.n, avgLength: c.avgLength, df }
  }
}
