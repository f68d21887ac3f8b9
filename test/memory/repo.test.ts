import { expect, test } from "bun:test"
import { PatternRepo } from "../../src/memory/repo"
import { vectorIndexName } from "../../src/store/vectors"
import { pgliteMemory } from "../support/postgres"

// The IVFFlat option: built only once the space has rows to learn centroids
// from (an exact scan until then), and then used by the search query.

test("with index = ivfflat the index appears once the space has enough rows, and the search uses it", async () => {
  const db = await pgliteMemory()
  try {
    const space = { model: "test:ivf", dimensions: 3 }
    const repo = new PatternRepo(db, "ivfflat", 150)
    const names = async () => (await db.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = 'patterns'`)).map((r) => r.indexname)
    for (let i = 0; i < 102; i++) {
      const a = (i * 0.37) % 1
      await repo.insert({ kind: "solution", title: `p${i}`, description: "", content: `pattern ${i}`, keyText: `p${i}` }, space, new Float32Array([Math.cos(a), Math.sin(a), 0.1]))
    }
    expect(await names()).not.toContain(vectorIndexName("patterns", space, "ivfflat")) // 100 rows at the last check: too few
    for (let i = 102; i < 202; i++) await repo.insert({ kind: "solution", title: `p${i}`, description: "", content: `pattern ${i}`, keyText: `p${i}` }, space, new Float32Array([1, (i % 7) / 7, 0.2]))
    expect(await names()).toContain(vectorIndexName("patterns", space, "ivfflat"))
    const { text, extra } = repo.searchSql(space)
    const plan = await db.transaction(async (tx) => {
      await tx.exec("SET LOCAL enable_seqscan = off")
      return tx.query(`EXPLAIN ${text}`, ["[1,0,0]", 5, ...extra])
    })
    expect(plan.map((r) => Object.values(r as object)[0]).join("\n")).toContain(`Index Scan using ${vectorIndexName("patterns", space, "ivfflat")}`)
    const hits = await repo.search(space, new Float32Array([1, 0, 0.1]), 3)
    expect(hits).toHaveLength(3)
    expect(hits[0]!.similarity).toBeGreaterThanOrEqual(hits[2]!.similarity)
  } finally {
    await db.close()
  }
})
