import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { CLAUDE, claudeEnv, SONNET } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { testDaemon, type TestDaemon } from "../daemon/harness"
import { MEMORY_OPEN } from "../../src/memory/loop"
import type { PromptStage } from "../../src/orchestrator/stages"
import { budgetOf, TokenBudgetStage, type BudgetPolicy } from "../../src/tokens/budget"
import { charsByKind } from "../../src/tokens/estimate"

// The token budget on real work: the real `claude` against the scripted model
// server, memory on (its block is part of what is counted), and a stage of
// the test's own that adds context (a fenced TypeScript file with comments),
// as a retrieval stage would. The budget stage runs after both.
// 1. under budget: the prompt goes as it is; the characters sent are noted;
// 2. over budget: the model receives the compressed prompt; the saving is on
//    the task (metadata.prompt.tokens, the accepted event, token_savings);
// 3. cannot fit: the task fails with token_budget_exceeded naming budget and
//    size, and the model never receives it.

const STRATEGY = "rotate one key at a time and check each service answers before the next"
const COMMENT = "this comment explains the retry loop at length"
const CONTEXT = [
  "```typescript",
  ...Array.from({ length: 12 }, (_, i) => `// ${COMMENT} (${i})\nexport function step${i}(n: number): number {\n  // ${COMMENT}, inside\n  return n + ${i}\n}`),
  "```",
].join("\n")

/** Adds the context block to tasks that ask for it (metadata.context = true). */
const contextStage: PromptStage = {
  name: "test_context",
  async prepare({ task, prompt }) {
    return task.metadata.context === true ? { prompt: `${prompt}\n\nContext:\n${CONTEXT}`, note: { added: CONTEXT.length } } : { prompt }
  },
}

function log(lines: number): string {
  return ["```log", ...Array.from({ length: lines }, (_, i) => `2026-12-03T10:${String(i % 60).padStart(2, "0")}:00Z INFO worker ${i} rotated key batch ${i * 7} ok`), "```"].join("\n")
}

describe("token budget stage", () => {
  let t: TestDaemon
  let model: ModelServer
  let workspace: TmpDir

  beforeAll(async () => {
    model = await startModelServer([{ match: { lastUserText: /Rotate the API keys/ }, reply: { content: `Done: the keys are rotated.\nStrategy: ${STRATEGY}.` } }])
    workspace = await tmpdir({ prefix: "tokens-budget-e2e-" })
    t = await testDaemon(
      { agents: { max_agents: 1, token_budget_per_task: 100_000, token_budget_roles: { backend: 1500 } }, embeddings: { provider: "hash" }, memory: { enabled: true, min_similarity: 0.2 } },
      { stages: [contextStage], pool: { claudePath: CLAUDE, model: SONNET, env: claudeEnv(model), mcpCommand: null, workspace: workspace.path, stateRoot: join(workspace.path, "agents") } },
    )
    await t.daemon.ctx.pool.spawn({ role: "backend" })
  }, 120_000)

  afterAll(async () => {
    await t?.[Symbol.asyncDispose]()
    await model?.close()
    await workspace?.[Symbol.asyncDispose]()
  })

  async function run(body: Record<string, unknown>) {
    const o = t.daemon.ctx.orchestrator
    const created = (await t.json("POST", "/api/v1/tasks", { role: "backend", maxAttempts: 1, ...body })).body
    const done = await o.waitFor(created.id, 90_000)
    if (!done) throw new Error(`task ${created.id} did not finish`)
    await o.flushEndHooks()
    return done
  }

  test("under budget as it is, over budget compressed before the model sees it, too big fails naming budget and size", async () => {
    // 1. under budget (and the memory pattern written for the next task)
    const t1 = await run({ description: "Rotate the API keys of the payments service" })
    expect(t1.status).toBe("completed")
    const n1 = t1.metadata.prompt as { tokens: Record<string, unknown> }
    expect(n1.tokens).toMatchObject({ budget: 1500, budget_from: "agents.token_budget_roles.backend", sent_chars: charsByKind(t1.description) })
    expect(n1.tokens.compressed).toBeUndefined()
    const turn1 = model.turns().find((r) => r.conversation?.lastUserText?.includes("payments service"))
    expect(turn1?.conversation?.lastUserText).toBe(t1.description)

    // 2. over budget: memory block + description + a long log + the context stage's code
    const prompt = `Rotate the API keys of the search service. The last run's log:\n\n${log(400)}`
    const t2 = await run({ description: "Rotate the API keys of the search service", prompt, metadata: { context: true } })
    expect(t2.status).toBe("completed")
    const turn2 = model.turns().find((r) => r.conversation?.lastUserText?.includes("search service"))
    const received = turn2!.conversation!.lastUserText!
    expect(received).toContain(MEMORY_OPEN) // the memory stage ran before, and its block was kept
    expect(received).toContain(STRATEGY)
    expect(received).toMatch(/\[… [\d,]+ lines \([\d,]+ characters\) cut/) // the log's middle went
    expect(received).toContain("worker 0 rotated") // its head stayed
    expect(received).toContain("worker 399 rotated") // and its tail
    expect(received).not.toContain(COMMENT) // comments out of the context's code
    expect(received).toContain("export function step11(n: number): number")
    expect(received.length).toBeLessThan(prompt.length / 3)

    const est = await t.daemon.ctx.tokens.estimator()
    const note = (t2.metadata.prompt as { tokens: Record<string, any> }).tokens
    const withoutStages = est.count(prompt)
    expect(note.budget).toBe(1500)
    expect(note.compressed).toBe(true)
    expect(note.lossy).toBe(true)
    // what was counted holds the memory block and the added context, not just the task's own prompt
    expect(note.estimated).toBeGreaterThan(withoutStages + est.count(CONTEXT) - 5)
    expect(note.estimated_after).toBeLessThanOrEqual(1500)
    expect(note.estimated_after).toBe(est.count(received))
    expect(note.saved).toBe(note.estimated - note.estimated_after)
    const names = (note.strategies as { strategy: string }[]).map((s) => s.strategy)
    expect(names).toContain("code_comments")
    expect(names).toContain("summarize")
    expect(names.indexOf("code_comments")).toBeLessThan(names.indexOf("summarize")) // lossless first

    const accepted = (await t.daemon.ctx.store.events.list(t2.id)).find((e) => e.type === "accepted")
    expect(accepted?.data).toMatchObject({ prompt: { tokens: { compressed: true, saved: note.saved }, memory: { patterns: [expect.anything()] }, test_context: { added: CONTEXT.length } } })

    const rows = await t.daemon.ctx.store.sql.query<{ strategy: string; source: string; lossy: boolean; saved: number; role: string; agent_id: string }>(
      "SELECT strategy, source, lossy, tokens_before - tokens_after AS saved, role, agent_id FROM token_savings WHERE task_id = $1 ORDER BY id",
      [t2.id],
    )
    expect(rows.map((r) => r.strategy)).toEqual(names)
    expect(rows.every((r) => r.source === "prompt_stage" && r.role === "backend" && r.agent_id === t2.agentId)).toBe(true)
    expect(rows.reduce((n, r) => n + Number(r.saved), 0)).toBe(note.saved)
    expect(rows.find((r) => r.strategy === "summarize")?.lossy).toBe(true)
    expect(rows.find((r) => r.strategy === "code_comments")?.lossy).toBe(false)

    // the metrics see the stage's savings
    const m = (await t.json("GET", "/api/v1/tokens/metrics")).body
    expect(JSON.stringify(m)).toContain("prompt_stage")

    // 3. cannot fit: prose that no strategy shortens
    const prose = Array.from({ length: 400 }, (_, i) => `Sentence ${i} says something new about account ${i * 13} and its owner number ${i * 31}.`).join(" ")
    const before = model.turns().length
    const t3 = await run({ description: `Rotate the API keys of the archive service. ${prose}` })
    expect(t3.status).toBe("failed")
    expect(t3.error?.code).toBe("token_budget_exceeded")
    expect(t3.error?.message).toMatch(/its prompt is ~[\d,]+ tokens \(~[\d,]+ after deduplicate, code_comments, whitespace, summarize, history\), over its budget of 1,500 tokens \(agents\.token_budget_roles\.backend\)/)
    expect(t3.error?.hint).toContain("agents.token_budget_roles.backend")
    const details = t3.error?.details as { budget_tokens: number; estimated_tokens: number; compressed_tokens: number }
    expect(details.budget_tokens).toBe(1500)
    expect(details.estimated_tokens).toBeGreaterThan(1500)
    expect(t3.error?.message).toContain(`~${details.estimated_tokens.toLocaleString("en-US")} tokens`)
    expect(model.turns().slice(before).some((r) => r.conversation?.lastUserText?.includes("archive service"))).toBe(false)
    expect(t3.attempts).toBe(1)
  }, 300_000)

  test("policy: role budget before the task budget, the context ceiling over both; lossless-only and off refuse what they cannot fit", async () => {
    const p: BudgetPolicy = { perTask: 5000, perRole: { reviewer: 800, huge: 500_000 }, compression: "auto", maxContextTokens: 200_000, warnRatio: 0.8 }
    expect(budgetOf({ role: "reviewer" }, p)).toEqual({ tokens: 800, from: "agents.token_budget_roles.reviewer" })
    expect(budgetOf({ role: "backend" }, p)).toEqual({ tokens: 5000, from: "agents.token_budget_per_task" })
    expect(budgetOf({ role: null }, { ...p, perTask: 0 })).toEqual({ tokens: 200_000, from: "tokens.max_context_tokens" })
    expect(budgetOf({ role: "huge" }, p)).toEqual({ tokens: 200_000, from: "tokens.max_context_tokens" })

    const tokens = t.daemon.ctx.tokens
    // only failures here: nothing is recorded, so the task need not exist
    const ctx = { task: { id: "00000000-0000-4000-8000-000000000000", role: "reviewer", metadata: {} }, agent: { id: "a-test" }, prompt: log(400) }
    // lossless only: a log is not shortened without summarize, so it fails and says lossy would be allowed under auto
    const lossless = new TokenBudgetStage(tokens, { ...p, compression: "lossless" })
    const e1 = await lossless.prepare(ctx as never).then(() => null, (e: unknown) => e as Error & { code: string; hint: string })
    expect(e1?.code).toBe("token_budget_exceeded")
    expect(e1?.message).toContain("after deduplicate, code_comments, whitespace)")
    expect(e1?.hint).toContain('tokens.compression = "auto"')
    const off = new TokenBudgetStage(tokens, { ...p, compression: "off" })
    const e2 = await off.prepare(ctx as never).then(() => null, (e: unknown) => e as Error & { details: Record<string, unknown> })
    expect(e2?.message).toMatch(/its prompt is ~[\d,]+ tokens, over its budget of 800 tokens/)
    expect(e2?.details).toMatchObject({ strategies: [], compression: "off" })
  })
})
