import { afterAll, expect, test } from "bun:test"
import { createLocalEmbedder } from "../../src/embeddings/local"
import { cosine } from "../../src/embeddings/types"

// The local provider from source: USE-lite in its worker thread, loaded on the
// first embed. (test/cli/embeddings.test.ts runs it inside the compiled binary.)

const e = createLocalEmbedder({ batchSize: 3 })
afterAll(() => e.close?.())

test("nothing loads until the first embed; then paraphrases are nearer than unrelated text, vectors are unit length and 512-d", async () => {
  expect(e).toMatchObject({ provider: "local", model: "local:use-lite", dimensions: 512, kind: "semantic" })
  expect(e.health()).toMatchObject({ state: "unused" })
  expect(e.health().loadMs).toBeUndefined()
  const [a, b, c, d] = await e.embed([
    "Retry the flaky network call with exponential backoff",
    "When a remote request fails now and then, try it again after growing delays",
    "Render the login form with the user's saved email address",
    "Retry the flaky network call with exponential backoff",
  ])
  expect(a).toHaveLength(512)
  expect(Math.hypot(...a!)).toBeCloseTo(1, 4)
  expect(cosine(a!, d!)).toBeCloseTo(1, 4) // deterministic, across batches (batchSize 3)
  expect(cosine(a!, b!)).toBeGreaterThan(cosine(a!, c!) + 0.05)
  const h = e.health()
  expect(h).toMatchObject({ state: "ok", kind: "semantic" })
  expect(h.loadMs).toBeGreaterThan(0)
})

test("calls at once are all answered, in order; empty texts are zero vectors; an aborted signal stops the call", async () => {
  const texts = ["sort the table by date", "", "compress the log files", "  "]
  const [x, y] = await Promise.all([e.embed(texts), e.embed(["compress the log files"])])
  expect(x).toHaveLength(4)
  expect(cosine(x![2]!, y![0]!)).toBeCloseTo(1, 4)
  expect([...x![1]!].every((n) => n === 0)).toBe(true)
  expect([...x![3]!].every((n) => n === 0)).toBe(true)
  const ac = new AbortController()
  ac.abort(new Error("stop"))
  await expect(e.embed(["a"], { signal: ac.signal })).rejects.toThrow("stop")
})
