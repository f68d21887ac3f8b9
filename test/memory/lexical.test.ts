import { expect, test } from "bun:test"
import * as v from "valibot"
import { EmbeddingsSection } from "../../src/config/schema"
import { createEmbedder } from "../../src/embeddings/embedder"
import { bm25, Lexicon, parseTsvector } from "../../src/memory/lexical"
import { PatternRepo } from "../../src/memory/repo"
import { MemoryService } from "../../src/memory/service"
import { vectorIndexName } from "../../src/store/vectors"
import { pgliteMemory } from "../support/postgres"

// The lexical half of the hybrid (BM25 over PostgreSQL's English stems,
// migration 0011) and the HNSW options, on PGlite.

test("a tsvector's text form: stems, quotes, weights (no letter is D, counted lighter)", () => {
  const d = parseTsvector(`'dir':1A,4 'it''s':2 'tree':3A`)
  expect([...d.tf.keys()]).toEqual(["dir", "it's", "tree"])
  expect(d.tf.get("dir")).toBeCloseTo(1.3)
  expect(d.tf.get("it's")).toBeCloseTo(0.3)
  const stats = { n: 100, avgLength: 3, df: new Map([["dir", 50], ["tree", 2]]) }
  // a rare stem weighs more than a common one (BM25's idf); a stem the document lacks adds nothing
  expect(bm25(["tree"], d, stats)).toBeGreaterThan(bm25(["dir"], d, stats))
  expect(bm25(["missing"], d, stats)).toBe(0)
})

test("hybrid search: the English stemmer matches other forms of a word, and a rare shared word outranks common ones", async () => {
  const db = await pgliteMemory()
  try {
    const embedder = createEmbedder(v.parse(EmbeddingsSection, { provider: "hash" }))
    const svc = new MemoryService({ db, embedder, vectors: { available: true, off: [], skipped: [] }, config: { lexical_weight: 1, merge_similarity: 1.01 } })
    const filler = ["Run the test suite before the release", "Keep the test data small for the release build", "Name the release after the test run", "Tag the release once the test passes"]
    for (const t of filler) await svc.store({ content: t, title: t })
    const target = await svc.store({ content: "Compress archives with zstd at level 3", title: "Compressing archives" })
    const stems = await svc.lexicon.stems("compressed the test release archive")
    expect(stems).toContain("compress") // "compressed" and "Compressing" share the stem
    expect(stems).toContain("archiv")
    const [top] = await svc.rank("compressed the test release archive", 3)
    expect(top!.pattern.id).toBe(target.pattern.id) // two rare stems beat "test" and "release", which every filler has
    expect(top!.lexical).toBe(1)
    expect(top!.bm25).toBeGreaterThan(0)
    // the generated column follows edits made by plain SQL too
    await db.query(`UPDATE patterns SET key_text = 'Gardening: water the tomatoes' WHERE id = $1`, [target.pattern.id])
    svc.lexicon.invalidate()
    const after = await svc.rank("tomatoes need water", 1)
    expect(after[0]!.pattern.id).toBe(target.pattern.id)
    await embedder.close?.()
  } finally {
    await db.close()
  }
})

test("the corpus size is cached for the TTL and counted again after invalidate", async () => {
  const db = await pgliteMemory()
  try {
    let now = 0
    const lex = new Lexicon(db, 1000, () => now)
    const space = { model: "test:lex", dimensions: 2 }
    const repo = new PatternRepo(db)
    await repo.insert({ kind: "solution", title: "a", description: "", content: "alpha beta", keyText: "alpha beta" }, space, new Float32Array([1, 0]))
    expect((await lex.stats(space, ["alpha"])).n).toBe(1)
    await repo.insert({ kind: "solution", title: "b", description: "", content: "alpha gamma", keyText: "alpha gamma" }, space, new Float32Array([0, 1]))
    const cached = await lex.stats(space, ["alpha"])
    expect(cached.n).toBe(1) // cached
    expect(cached.df.get("alpha")).toBe(2) // document frequencies are always counted
    now = 2000
    expect((await lex.stats(space, ["alpha"])).n).toBe(2)
  } finally {
    await db.close()
  }
})

test("HNSW options: m and ef_construction are the index's, and a kind filter still fills the limit (iterative scan)", async () => {
  const db = await pgliteMemory()
  try {
    const space = { model: "test:hnsw", dimensions: 4 }
    const repo = new PatternRepo(db, "hnsw", 1000, { m: 8, efConstruction: 32, efSearch: 10 })
    for (let i = 0; i < 300; i++) {
      const a = i * 0.7
      await repo.insert(
        { kind: i % 30 === 0 ? "testing" : "solution", title: `p${i}`, description: "", content: `pattern ${i}`, keyText: `p${i}` },
        space,
        new Float32Array([Math.cos(a), Math.sin(a), Math.cos(a * 3), (i % 5) / 5]),
      )
    }
    const [def] = await db.query<{ d: string }>(`SELECT indexdef AS d FROM pg_indexes WHERE indexname = $1`, [vectorIndexName("patterns", space)])
    expect(def!.d).toContain("m='8'")
    expect(def!.d).toContain("ef_construction='32'")
    // 10 "testing" rows among 300; ef_search 10 alone would find about one of them among its 10 candidates
    const hits = await repo.search(space, new Float32Array([1, 0, 1, 0]), 5, { kind: "testing" })
    expect(hits).toHaveLength(5)
    expect(hits.every((h) => h.pattern.kind === "testing")).toBe(true)
  } finally {
    await db.close()
  }
})
