import { afterAll, beforeAll, expect, test } from "bun:test"
import { testDaemon, type TestDaemon } from "../daemon/harness"

// The tokens routes of a real daemon (PGlite): analyse, compress, bad input
// named by field, and metrics from tasks whose usage was recorded.

let d: TestDaemon
beforeAll(async () => {
  d = await testDaemon()
})
afterAll(async () => {
  await d?.[Symbol.asyncDispose]()
})

const code = "Fix it:\n\n```ts\n/** doc */\n// plain comment here\nexport function f(a: number) {\n  return a + 1\n}\n```\n"

test("analyze: an estimate with sections and the measured saving of each strategy", async () => {
  const r = await d.json("POST", "/api/v1/tokens/analyze", { content: code })
  expect(r.status).toBe(200)
  expect(r.body.sections.filter((s: { tokens: number }) => s.tokens > 0).map((s: { kind: string }) => s.kind)).toContain("code")
  expect(r.body.by_language.typescript).toBeGreaterThan(0)
  const comments = r.body.strategies.find((s: { strategy: string }) => s.strategy === "code_comments")
  expect(comments.tokens_saved).toBeGreaterThan(0)
  expect(comments.cut).toEqual(["2 comments removed"])
})

test("compress: content, saving per strategy, recorded for the metrics", async () => {
  const r = await d.json("POST", "/api/v1/tokens/compress", { content: code, strategies: ["code_comments"], keep_doc_comments: true })
  expect(r.status).toBe(200)
  expect(r.body.content).toBe("Fix it:\n\n```ts\n/** doc */\nexport function f(a: number) {\n  return a + 1\n}\n```\n")
  expect(r.body.lossy).toBe(false)
  const m = await d.json("GET", "/api/v1/tokens/metrics")
  expect(m.body.savings_by_strategy.code_comments.tokens_saved).toBe(r.body.tokens_saved)
  expect(m.body.savings_by_strategy.code_comments.by_source.api).toBe(r.body.tokens_saved)
})

test("bad input is a 400 naming the field; too much text a 413 stating the limit", async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ content: "x", strategies: ["zip"] }, "body.strategies.0"],
    [{ content: "x", target_reduction: 0.99 }, "body.target_reduction"],
    [{ content: "x", target_reduction: -0.1 }, "body.target_reduction"],
    [{ content: "x", budget_tokens: 0 }, "body.budget_tokens"],
    [{ content: "" }, "body.content"],
    [{ content: "x", kind: "video" }, "body.kind"],
  ]
  for (const [body, field] of cases) {
    const r = await d.json("POST", "/api/v1/tokens/compress", body)
    expect(r.status, field).toBe(400)
    expect(r.body.error.details.field).toBe(field)
    expect(r.body.error.message).toStartWith(`${field}: `)
  }
  const big = await d.json("POST", "/api/v1/tokens/analyze", { content: "y".repeat(1_000_001) })
  expect([413]).toContain(big.status)
  if (big.body.error.code === "payload_too_large" && big.body.error.details) expect(big.body.error.message).toContain("1,000,000")
})
