import { expect, test } from "bun:test"
import { createHashEmbedder, words } from "../../src/embeddings/hash"
import { cosine } from "../../src/embeddings/types"

test("words split identifiers on camelCase, acronyms, snake_case and digits, and drop stop words", () => {
  expect(words("parseHTTPResponse snake_case v2api the Foo")).toEqual(["parse", "http", "response", "snake", "case", "v", "2", "api", "foo"])
  expect(words("Grüße an München")).toEqual(["grüße", "münchen"])
})

test("hash vectors: deterministic, unit length, near for shared words, far otherwise; lexical by name", async () => {
  const e = createHashEmbedder({ dimensions: 256 })
  expect(e).toMatchObject({ provider: "hash", kind: "lexical", dimensions: 256, space: { model: "hash:fh1", dimensions: 256 } })
  expect(e.health().state).toBe("unused")
  const [a, b, c, a2] = await e.embed(["retry a failed HTTP request with backoff", "retrying failed http requests with exponential backoff", "render the login form", "retry a failed HTTP request with backoff"])
  expect(a).toHaveLength(256)
  expect(Math.hypot(...a!)).toBeCloseTo(1, 5)
  expect([...a2!]).toEqual([...a!])
  expect(cosine(a!, b!)).toBeGreaterThan(0.3)
  expect(cosine(a!, c!)).toBeLessThan(0.15)
  expect(e.health()).toMatchObject({ state: "ok" })
  // the empty text is a zero vector, not NaN
  const [z] = await e.embed([""])
  expect([...z!].every((x) => x === 0)).toBe(true)
})

test("cosine refuses vectors of two dimensions", () => {
  expect(() => cosine([1, 0], [1, 0, 0])).toThrow("two dimensions")
})
