import { expect, test } from "bun:test"
import { startEmbeddingServer } from "../support/embedding-server"
import { testDaemon } from "./harness"

// The daemon's embedder in health and status: created at start but not used
// (nothing asked of the provider), then down after a failure (health
// "degraded" with the reason; tasks go on), then ok again.

test("health and status show the embedder: unused at start, down with the reason after a failure, ok after a success", async () => {
  await using srv = await startEmbeddingServer({ dimensions: 768 })
  await using d = await testDaemon({ embeddings: { provider: "ollama", url: srv.url } })
  let h = await d.json("GET", "/api/v1/health")
  expect(h.status).toBe(200)
  expect(h.body.checks.embeddings).toMatchObject({ state: "unused", provider: "ollama", model: "ollama:nomic-embed-text", dimensions: 768, kind: "semantic" })
  expect(srv.requests).toHaveLength(0) // daemon start asked the provider nothing

  srv.failNext(500, "model crashed")
  await expect(d.daemon.ctx.embedder.embed(["x"])).rejects.toThrow("model crashed")
  h = await d.json("GET", "/api/v1/health")
  expect(h.body.status).toBe("degraded")
  expect(h.body.checks.embeddings).toMatchObject({ state: "down", error: expect.stringContaining("answered 500: model crashed") })
  const s = await d.json("GET", "/api/v1/status")
  expect(s.body.embeddings).toMatchObject({ state: "down", provider: "ollama" })

  await d.daemon.ctx.embedder.embed(["x"])
  h = await d.json("GET", "/api/v1/health")
  expect(h.body.status).toBe("ok")
  expect(h.body.checks.embeddings.state).toBe("ok")
})
