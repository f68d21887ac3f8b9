import { expect, test } from "bun:test"
import { startEmbeddingServer } from "../support/embedding-server"
import { testDaemon } from "../daemon/harness"

// Memory in `/api/v1/status` (what `cca status` prints): provider, model,
// pattern count, and a provider that fails is an error there (state down,
// the reason, the count of failed operations), never silent; it is ok again
// once an operation works.

test("status shows memory: unused at start, ok with its pattern count, down with the provider's error, ok again", async () => {
  await using srv = await startEmbeddingServer({ dimensions: 768 })
  await using d = await testDaemon({ embeddings: { provider: "ollama", url: srv.url }, memory: { enabled: true } })
  let m = (await d.json("GET", "/api/v1/status")).body.memory
  expect(m).toMatchObject({ state: "unused", enabled: true, provider: "ollama", model: "ollama:nomic-embed-text", dimensions: 768, kind: "semantic", search_type: "hybrid", index: "hnsw", patterns: 0, stale: 0, errors: 0 })
  expect(m.error).toBeUndefined()

  expect((await d.json("POST", "/api/v1/memory/store", { content: "Retry the upload with backoff when the server answers 503.", title: "Retry uploads" })).status).toBe(201)
  expect(d.daemon.ctx.memory.status(await d.daemon.ctx.memory.counts())).toMatchObject({ state: "ok", patterns: 1, stale: 0, errors: 0 })

  srv.failNext(500, "model crashed")
  const failed = await d.json("POST", "/api/v1/memory/search", { query: "the upload fails with 503" })
  expect(failed.status).toBe(503)
  m = (await d.json("GET", "/api/v1/status")).body.memory
  expect(m).toMatchObject({ state: "down", errors: 1, last_error: { where: "search", message: expect.stringContaining("model crashed") } })
  expect(m.error).toContain("ollama embeddings down")
  expect(m.error).toContain("model crashed")

  const ok = await d.json("POST", "/api/v1/memory/search", { query: "the upload fails with 503" })
  expect(ok.status).toBe(200)
  m = (await d.json("GET", "/api/v1/status")).body.memory
  expect(m).toMatchObject({ state: "ok", errors: 1 })
  expect(m.error).toBeUndefined()
})

test("status says memory is off when [memory] enabled = false", async () => {
  await using d = await testDaemon({ embeddings: { provider: "hash" }, memory: { enabled: false } })
  expect((await d.json("GET", "/api/v1/status")).body.memory).toMatchObject({ state: "off", enabled: false, provider: "hash", patterns: 0 })
})
