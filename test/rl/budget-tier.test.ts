import { afterAll, expect, test } from "bun:test"
import { actionIndex, FEATURES, FEATURE_NAMES } from "../../src/orchestrator/features"
import { NORMAL_TIER, TIERS, TierGate, tierInfo, tierOfInfo } from "../../src/rl/budget-tier"
import { DEFAULT_PARAMS } from "../../src/rl/params"
import { Rng } from "../../src/rl/rng"
import { PromptRejected } from "../../src/orchestrator/stages"
import { TokenBudgetStage, type BudgetPolicy } from "../../src/tokens/budget"
import { TokenService } from "../../src/tokens/service"
import { taskRepo } from "../../src/store/tasks"
import { pgliteMemory } from "../support/postgres"

// The token-budget half of the composite action.
// 1. The tier learner, on scripted rewards: for backend tasks the tight tier
//    pays (success under budget, +0.2), for frontend tasks it fails often
//    (its compression cuts what they need). The gate starts at normal and
//    moves to tight for backend only.
// 2. The real TokenBudgetStage reading the decision from the routing info:
//    a tight tier compresses a prompt the configured budget would have sent
//    as it is; a tier the prompt cannot be fitted to falls back to the
//    configured budget (sent, not failed); a generous tier sends whole what
//    the configured budget would have compressed.

const TIGHT = TIERS.findIndex((t) => t.name === "tight")

test("the tier learner moves toward the tier that pays, per role, from the default", () => {
  const gate = new TierGate(DEFAULT_PARAMS)
  const rng = new Rng(7)
  const luck = new Rng(11)
  const x = new Float32Array(FEATURES)
  x[FEATURE_NAMES.indexOf("task.complexity")] = 0.4
  const backend = actionIndex("backend")
  const frontend = actionIndex("frontend")
  // success probability and reward on success per tier (tight, normal, generous)
  const script: Record<number, { p: number[]; win: number[] }> = {
    [backend]: { p: [0.9, 0.9, 0.9], win: [1.2, 1.0, 1.0] },
    [frontend]: { p: [0.3, 0.9, 0.9], win: [1.2, 1.0, 1.0] },
  }
  const picks: Record<number, number[]> = { [backend]: [], [frontend]: [] }
  const first: number[] = []
  for (let i = 0; i < 800; i++) {
    const action = i % 2 ? backend : frontend
    const c = gate.choose(x, action, rng)
    expect(c.propensity).toBeGreaterThan(0)
    if (i < 10) first.push(c.tier)
    picks[action]!.push(c.tier)
    const s = script[action]!
    gate.observe(x, action, c.tier, luck.next() < s.p[c.tier]! ? s.win[c.tier]! : -0.5)
  }
  // untrained: the configured budget (ε aside)
  expect(first.filter((t) => t === NORMAL_TIER).length).toBeGreaterThanOrEqual(8)
  const share = (a: number, tier: number) => picks[a]!.slice(-100).filter((t) => t === tier).length / 100
  expect(share(backend, TIGHT)).toBeGreaterThan(0.8)
  expect(share(frontend, TIGHT)).toBeLessThan(0.1)
  expect(gate.estimate(x, backend, TIGHT).mean).toBeGreaterThan(gate.estimate(x, backend, NORMAL_TIER).mean)
  expect(gate.estimate(x, frontend, TIGHT).mean).toBeLessThan(gate.estimate(x, frontend, NORMAL_TIER).mean)

  // the recorded info round-trips to what the gate learns from, and replaying it gives the same gate
  const info = tierInfo({ tier: TIGHT, propensity: 0.97, decidedBy: "policy", reason: "policy", explored: false })
  expect(info).toMatchObject({ tier: "tight", multiple: 0.5, propensity: 0.97 })
  expect(tierOfInfo({ budget: info })).toEqual({ tier: TIGHT, propensity: 0.97 })
  expect(tierOfInfo({ budget: { tier: "huge" } })).toBeUndefined()
  expect(tierOfInfo({})).toBeUndefined()
})

const db = await pgliteMemory()
afterAll(() => db.close())
const tokens = new TokenService({ db })
const policy: BudgetPolicy = { perTask: 1500, perRole: {}, compression: "auto", maxContextTokens: 200_000, warnRatio: 0.8 }
const stage = new TokenBudgetStage(tokens, policy)
const ids = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-000000000003"]
for (const id of ids) await taskRepo(db).create({ id, description: "Rotate the keys", role: "backend" })
const task = (id: string) => ({ id, role: "backend", metadata: {} })
const agent = { id: "a-test" }

const COMMENT = "this comment explains the retry loop at length and why it waits"
/** TypeScript with long comments: compressible without loss (code_comments). */
const code = (n: number) => ["```typescript", ...Array.from({ length: n }, (_, i) => `// ${COMMENT} (${i})\n// ${COMMENT}, again\nexport function step${i}(n: number): number {\n  // ${COMMENT}, inside\n  return n + ${i}\n}`), "```"].join("\n")
const prose = (n: number) => Array.from({ length: n }, (_, i) => `Sentence ${i} says something new about account ${i * 13} and its owner number ${i * 31}.`).join(" ")

async function sized(make: (n: number) => string, lo: number, hi: number): Promise<{ text: string; tokens: number }> {
  const est = await tokens.estimator()
  for (let n = 1; n < 2000; n++) {
    const text = `Rotate the keys.\n${make(n)}`
    const t = est.fromChars((await import("../../src/tokens/estimate")).charsByKind(text))
    if (t >= lo && t <= hi) return { text, tokens: t }
    if (t > hi) break
  }
  throw new Error(`no prompt of ${lo}-${hi} tokens`)
}

test("through the real stage: a tight tier compresses, an unfit tier falls back to the configured budget, a generous one sends whole", async () => {
  const tight = { budget: { tier: "tight", multiple: 0.5 } }
  // commented code of ~1,000-1,400 tokens: under the configured 1,500, over the tight 750
  const src = await sized(code, 1000, 1400)
  const asIs = await stage.prepare({ task: task("00000000-0000-4000-8000-000000000001"), agent, prompt: src.text } as never)
  expect(asIs.prompt).toBe(src.text)
  const r1 = await stage.prepare({ task: task("00000000-0000-4000-8000-000000000001"), agent, prompt: src.text, routing: tight } as never)
  const n1 = r1.note as Record<string, unknown>
  expect(n1).toMatchObject({ budget: 750, budget_from: "routing.budget.tight", compressed: true, tier: { tier: "tight", multiple: 0.5, tokens: 750 } })
  expect(Number(n1.estimated_after)).toBeLessThanOrEqual(750)
  expect(r1.prompt.length).toBeLessThan(src.text.length)
  expect((n1.tier as Record<string, unknown>).fell_back).toBeUndefined()

  // prose that nothing shortens, ~1,000-1,400 tokens: the tight tier cannot take it (the configured budget alone at 750 refuses it) ...
  const text = await sized(prose, 1000, 1400)
  const strict = new TokenBudgetStage(tokens, { ...policy, perTask: 750 })
  const refused = await strict.prepare({ task: task("00000000-0000-4000-8000-000000000002"), agent, prompt: text.text } as never).then(() => null, (e: unknown) => e)
  expect(refused).toBeInstanceOf(PromptRejected)
  // ... so under the tight tier it goes as the configured budget sends it: whole, noted as fallen back
  const r2 = await stage.prepare({ task: task("00000000-0000-4000-8000-000000000002"), agent, prompt: text.text, routing: tight } as never)
  expect(r2.prompt).toBe(text.text)
  expect(r2.note).toMatchObject({ budget: 1500, budget_from: "agents.token_budget_per_task", tier: { tier: "tight", tokens: 750, fell_back: true } })

  // a generous tier: code over the configured budget and under twice it goes whole; without the tier it is compressed
  const long = await sized(code, 1700, 2600)
  const plain = await stage.prepare({ task: task("00000000-0000-4000-8000-000000000003"), agent, prompt: long.text } as never)
  expect((plain.note as Record<string, unknown>).compressed).toBe(true)
  const r3 = await stage.prepare({ task: task("00000000-0000-4000-8000-000000000003"), agent, prompt: long.text, routing: { budget: { tier: "generous", multiple: 2 } } } as never)
  expect(r3.prompt).toBe(long.text)
  expect(r3.note).toMatchObject({ budget: 3000, tier: { tier: "generous", tokens: 3000 } })

  // normal (or no decision) is the configured budget, the stage as it was
  const r4 = await stage.prepare({ task: task("00000000-0000-4000-8000-000000000003"), agent, prompt: long.text, routing: { budget: { tier: "normal", multiple: 1 } } } as never)
  expect(r4.note).toEqual(plain.note)
})
