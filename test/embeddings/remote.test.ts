import { afterAll, beforeAll, expect, test } from "bun:test"
import * as v from "valibot"
import { EmbeddingsSection } from "../../src/config/schema"
import { createEmbedder } from "../../src/embeddings/embedder"
import { EmbeddingsUnavailableError } from "../../src/embeddings/errors"
import type { AppError } from "../../src/errors"
import { createOllamaEmbedder } from "../../src/embeddings/ollama"
import { createOpenAiEmbedder } from "../../src/embeddings/openai"
import { joinUrl } from "../../src/embeddings/remote"
import { cosine } from "../../src/embeddings/types"
import { startEmbeddingServer, type EmbeddingServer } from "../support/embedding-server"

// The ollama and openai providers against a scripted server speaking both
// protocols on a real socket: batching, order, prefixes, keys by env var name,
// and every failure a named error with a hint and health "down".

let srv: EmbeddingServer
beforeAll(async () => {
  srv = await startEmbeddingServer({ dimensions: 64, models: ["nomic-embed-text", "mxbai-embed-large", "text-embedding-3-small", "tiny"] })
})
afterAll(() => srv.close())

async function unavailable(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  )
  expect(e).toBeInstanceOf(EmbeddingsUnavailableError)
  return e as AppError
}

test("ollama: POST /api/embed with batched input, vectors back in order, unit length, nomic's task prefixes by purpose", async () => {
  const e = createOllamaEmbedder({ url: srv.url, dimensions: 64, batchSize: 2 })
  expect(e).toMatchObject({ provider: "ollama", model: "ollama:nomic-embed-text", kind: "semantic", space: { model: "ollama:nomic-embed-text", dimensions: 64 } })
  expect(e.health().state).toBe("unused")
  expect(srv.requests).toHaveLength(0) // created: nothing asked yet
  const texts = ["retry a failed request", "render the login form", "retry failed requests again", "parse the config file", "x"]
  const before = srv.requests.length
  const vs = await e.embed(texts)
  const sent = srv.requests.slice(before)
  expect(sent.map((r) => [r.path, r.body.input.length])).toEqual([["/api/embed", 2], ["/api/embed", 2], ["/api/embed", 1]])
  expect(sent[0]!.body).toMatchObject({ model: "nomic-embed-text", truncate: true, input: ["search_document: retry a failed request", "search_document: render the login form"] })
  expect(vs).toHaveLength(5)
  for (const x of vs) expect(Math.hypot(...x)).toBeCloseTo(1, 5)
  expect(cosine(vs[0]!, vs[2]!)).toBeGreaterThan(cosine(vs[0]!, vs[1]!)) // the server's vectors, in input order
  await e.embed(["how do I retry?"], { purpose: "query" })
  expect(srv.requests.at(-1)!.body.input).toEqual(["search_query: how do I retry?"])
  expect(e.health()).toMatchObject({ state: "ok", url: `${srv.url}/api/embed` })
  expect(await e.embed([])).toEqual([])
})

test("ollama: a model that is not pulled, a server that is down, a wrong size: named errors with hints, health down, then ok again", async () => {
  const missing = createOllamaEmbedder({ url: srv.url, model: "llama-embed", dimensions: 64 })
  const e1 = await unavailable(missing.embed(["a"]))
  expect(e1.message).toContain("answered 404")
  expect(e1.hint).toContain("ollama pull llama-embed")
  expect(e1.status).toBe(503)
  expect(missing.health()).toMatchObject({ state: "down", error: expect.stringContaining("404") })

  const gone = await startEmbeddingServer()
  const url = gone.url
  await gone.close()
  const down = createOllamaEmbedder({ url })
  const e2 = await unavailable(down.embed(["a"]))
  expect(e2.message).toContain(`ollama at ${url}/api/embed does not answer`)
  expect(e2.hint).toContain("[embeddings] url")

  // mxbai-embed-large is known as 1024-d; the server answers 64-d
  const wrong = createOllamaEmbedder({ url: srv.url, model: "mxbai-embed-large" })
  expect(wrong.dimensions).toBe(1024)
  const e3 = await unavailable(wrong.embed(["a"]))
  expect(e3.message).toContain("64-d vectors, but [embeddings] dimensions is 1024")
  expect(e3.hint).toContain("dimensions = 64")

  const flaky = createOllamaEmbedder({ url: srv.url, dimensions: 64 })
  srv.failNext(500, "out of memory")
  const e4 = await unavailable(flaky.embed(["a"]))
  expect(e4.message).toContain("answered 500: out of memory")
  expect(flaky.health().state).toBe("down")
  await flaky.embed(["a"])
  expect(flaky.health()).toMatchObject({ state: "ok" })
  expect(flaky.health().error).toBeUndefined()
})

test("ollama: a server that does not answer in time is an error after timeout_s, not a hang", async () => {
  const e = createOllamaEmbedder({ url: srv.url, dimensions: 64, timeoutMs: 150 })
  srv.hold()
  try {
    const err = await unavailable(e.embed(["a"]))
    expect(err.message).toContain("did not answer within 0.15 s")
    expect(err.hint).toContain("timeout_s")
  } finally {
    srv.release()
  }
})

test("openai: POST /v1/embeddings, order by index, the key from the named env var, never the key in errors", async () => {
  await using keyed = await startEmbeddingServer({ dimensions: 32, apiKey: "sk-test-123456" })
  const name = "CCA_TEST_EMBED_KEY"
  process.env[name] = "sk-test-123456"
  try {
    keyed.shuffle(true)
    const e = createOpenAiEmbedder({ url: `${keyed.url}/v1`, model: "tiny", dimensions: 32, apiKeyEnv: name })
    expect(e.model).toBe("openai:tiny")
    const vs = await e.embed(["alpha beta", "gamma delta", "alpha beta"])
    const req = keyed.requests.at(-1)!
    expect(req.path).toBe("/v1/embeddings")
    expect(req.headers.authorization).toBe("Bearer sk-test-123456")
    expect(req.body).toEqual({ model: "tiny", input: ["alpha beta", "gamma delta", "alpha beta"], encoding_format: "float", dimensions: 32 })
    expect(cosine(vs[0]!, vs[2]!)).toBeCloseTo(1, 5) // put back by index although the server listed them reversed
    expect(cosine(vs[0]!, vs[1]!)).toBeLessThan(0.9)

    process.env[name] = "sk-wrong-999"
    const err = await unavailable(e.embed(["a"]))
    expect(err.message).toContain("answered 401")
    expect(err.hint).toContain(`environment variable ${name}`)
    expect(JSON.stringify(err.toJSON())).not.toContain("sk-wrong-999")
    expect(JSON.stringify(e.health())).not.toContain("sk-")
  } finally {
    delete process.env[name]
  }
  // unset variable: no Authorization header at all (local servers)
  const open = createOpenAiEmbedder({ url: srv.url, apiKeyEnv: "CCA_TEST_NO_SUCH_VAR", dimensions: 64 })
  await open.embed(["x"])
  expect(srv.requests.at(-1)!.headers.authorization).toBeUndefined()
  // dimensions 0: the model's known size, and not sent
  const dflt = createOpenAiEmbedder({ url: srv.url })
  expect(dflt.dimensions).toBe(1536)
  await unavailable(dflt.embed(["x"]))
  expect(srv.requests.at(-1)!.body.dimensions).toBeUndefined()
})

test("createEmbedder picks the provider from [embeddings]; local is the default; bad combinations are config errors", () => {
  const section = (o: Record<string, unknown>) => v.parse(EmbeddingsSection, o)
  expect(section({}).provider).toBe("local")
  const local = createEmbedder(section({}))
  expect(local).toMatchObject({ provider: "local", model: "local:use-lite", dimensions: 512, kind: "semantic" })
  expect(local.health().state).toBe("unused") // nothing loaded by creating it
  expect(createEmbedder(section({ provider: "hash" }))).toMatchObject({ provider: "hash", dimensions: 768, kind: "lexical" })
  expect(createEmbedder(section({ provider: "ollama" }))).toMatchObject({ model: "ollama:nomic-embed-text", dimensions: 768 })
  expect(createEmbedder(section({ provider: "openai", model: "text-embedding-3-large" }))).toMatchObject({ model: "openai:text-embedding-3-large", dimensions: 3072 })
  expect(() => createEmbedder(section({ dimensions: 768 }))).toThrow("USE-lite")
  expect(() => section({ provider: "fast" })).toThrow("must be local, hash, ollama or openai")
  expect(() => section({ api_key_env: "sk-abc123-def" })).toThrow("environment variable name")
})

test("joinUrl: base URLs with or without /v1 and trailing slashes", () => {
  expect(joinUrl("http://h:1", "/v1/embeddings")).toBe("http://h:1/v1/embeddings")
  expect(joinUrl("http://h:1/v1/", "/v1/embeddings")).toBe("http://h:1/v1/embeddings")
  expect(joinUrl("http://h:1/v1/embeddings", "/v1/embeddings")).toBe("http://h:1/v1/embeddings")
  expect(joinUrl("http://h:1/", "/api/embed")).toBe("http://h:1/api/embed")
})
