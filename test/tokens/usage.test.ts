import { afterAll, beforeAll, expect, test } from "bun:test"
import { testDaemon, type TestDaemon } from "../daemon/harness"
import { charsByKind } from "../../src/tokens/estimate"
import { TURN_ROLE } from "../../src/tokens/service"

// Recorded usage on a real daemon (PGlite): tasks finished as the
// orchestrator finishes them (claimed by an agent, completed with Claude
// Code's usage, session and turn count), then read back by the estimator's
// calibration pairs and by GET /tokens/recommendations.

let d: TestDaemon
beforeAll(async () => {
  d = await testDaemon()
})
afterAll(async () => {
  await d?.[Symbol.asyncDispose]()
})

type Done = { description: string; role?: string; agent: string; session: string; input: number; output: number; cacheRead?: number; turns: number }

async function finished(o: Done): Promise<string> {
  const tasks = d.daemon.ctx.store.tasks
  const { task } = (await tasks.create({ description: o.description, role: o.role ?? "backend" }))!
  await tasks.claim(task.id, { owner: "test", agentId: o.agent })
  await tasks.complete(task.id, "done", {
    usage: { inputTokens: o.input, outputTokens: o.output, cacheReadTokens: o.cacheRead ?? 0, cacheCreationTokens: 0 },
    sessionId: o.session,
    metadata: { agentData: { numTurns: o.turns } },
  })
  return task.id
}

test("calibration pairs: a session's first task against its whole input, a later one against what the input grew by", async () => {
  const p = ["Review the retry loop in the client", "Review the queue's back-pressure", "Review the whole scheduler", "Review the timer wheel", "Review the parser"]
  await finished({ description: p[0]!, agent: "a1", session: "s1", input: 20_000, output: 10, turns: 1 })
  await finished({ description: p[1]!, agent: "a1", session: "s1", input: 20_517, output: 7, turns: 1 }) // grew by 517 - 10 (the first answer)
  await finished({ description: p[2]!, agent: "a1", session: "s1", input: 45_000, output: 90, turns: 3 }) // several turns: not a pair
  await finished({ description: p[3]!, agent: "a1", session: "s1", input: 46_000, output: 5, turns: 1 }) // after a task of several turns: unknown, not a pair
  await finished({ description: p[4]!, agent: "a2", session: "s2", input: 21_000, output: 5, turns: 1 }) // another agent's first
  const pairs = await d.daemon.ctx.tokens.pairs()
  expect(pairs).toEqual([
    { role: "backend", chars: charsByKind(p[0]!), reported: 20_000 },
    { role: TURN_ROLE, chars: charsByKind(p[1]!), reported: 507 },
    { role: "backend", chars: charsByKind(p[4]!), reported: 21_000 },
  ])
})

test("recommendations from recorded usage: each with its evidence and its possible saving", async () => {
  // a role that never reads from the cache, and a family far above the median
  for (let i = 0; i < 3; i++) await finished({ description: `Fix the flaky login test ${i}`, role: "tester", agent: "a3", session: `t${i}`, input: 4000, output: 100, turns: 1 })
  for (let i = 0; i < 2; i++) await finished({ description: `Document the public API part ${i}`, role: "writer", agent: "a4", session: `w${i}`, input: 400_000, output: 2000, cacheRead: 600_000, turns: 1 })
  const r = await d.json("GET", "/api/v1/tokens/recommendations")
  expect(r.status).toBe(200)
  const recs = r.body.recommendations as { id: string; title: string; evidence: string; possible_saving_tokens: number; action: string }[]
  const cache = recs.find((x) => x.id === "low-cache-tester")
  expect(cache).toBeDefined()
  expect(cache!.evidence).toBe("0% of its 12,000 input tokens over 3 tasks were cache reads")
  expect(cache!.possible_saving_tokens).toBe(Math.round(12_000 * 0.6 * 0.9))
  expect(recs.find((x) => x.id === "low-cache-writer")).toBeUndefined() // it reads 60% from the cache
  const family = recs.find((x) => x.id === "family-docs")
  expect(family).toBeDefined()
  expect(family!.evidence).toStartWith("2 tasks at 1,002,000 tokens each")
  expect(family!.possible_saving_tokens).toBeGreaterThan(0)
  expect(family!.action).toContain("agents.token_budget_per_task")
  // sorted by what they could save, and they say what they are based on
  expect(recs.map((x) => x.possible_saving_tokens)).toEqual([...recs.map((x) => x.possible_saving_tokens)].sort((a, b) => b - a))
  expect(r.body.based_on.tasks).toBe(10)
  // no key, no answer
  expect((await d.req("GET", "/api/v1/tokens/recommendations", { key: null })).status).toBe(401)
})
