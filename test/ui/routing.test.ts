import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test"
import type { Browser } from "playwright-core"
import { STATE_VERSION } from "../../src/orchestrator/features"
import { launchBrowser, newPage, signIn, uiDaemon, type UiDaemon } from "./support"

setDefaultTimeout(120_000)

// The Routing panel reads GET /api/v1/rl/status as the daemon answers it:
// the algorithm, the rewarded decisions, the recent mean rewards and the
// reward curve of the policy next to the heuristic's, from decisions in the
// daemon's own store (rows as the orchestrator writes them).

let u: UiDaemon
let browser: Browser

beforeAll(async () => {
  u = await uiDaemon({ learning: { enabled: true, algorithm: "linucb", train_every: 0 } })
  // 120 rewarded decisions: the policy's earn 1, the heuristic's 0.25; 10 not rewarded yet.
  await u.daemon.ctx.store.sql.query(
    `INSERT INTO rl_experiences (algorithm, state, action, action_index, reward, done, metadata)
     SELECT 'linucb', $1::jsonb, 'backend', 1, CASE WHEN g > 120 THEN NULL WHEN g % 2 = 0 THEN 1 ELSE 0.25 END, true,
            jsonb_build_object('decidedBy', CASE WHEN g % 2 = 0 THEN 'policy' ELSE 'heuristic' END)
     FROM generate_series(1, 130) g`,
    [{ v: STATE_VERSION, features: [0], task: {} }],
  )
  browser = await launchBrowser()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await u?.[Symbol.asyncDispose]()
})

test("status carries the reward curve: runs of decisions in order, the policy's and the heuristic's means apart", async () => {
  const s = (await (await u.api("GET", "/api/v1/rl/status")).json()) as { curve: { decisions: number; policy: { x: number; mean: number; n: number }[]; heuristic: { x: number; mean: number; n: number }[] } }
  expect(s.curve.decisions).toBe(120)
  expect(s.curve.policy.length).toBeGreaterThan(10)
  expect(s.curve.policy.every((p) => p.mean === 1)).toBe(true)
  expect(s.curve.heuristic.every((p) => p.mean === 0.25)).toBe(true)
  expect(s.curve.policy.reduce((n, p) => n + p.n, 0) + s.curve.heuristic.reduce((n, p) => n + p.n, 0)).toBe(120)
  const xs = s.curve.policy.map((p) => p.x)
  expect(xs).toEqual([...xs].sort((a, b) => a - b))
})

test("the Routing panel shows the algorithm, the counts, the recent rewards and the two curves", async () => {
  const { page, context } = await newPage(browser)
  await signIn(page, u)
  await page.getByRole("link", { name: "Routing", exact: true }).click()
  await page.getByTestId("rl-status").waitFor()
  expect(await page.getByTestId("rl-algorithm").textContent()).toBe("linucb")
  expect(await page.getByTestId("rl-rewarded").textContent()).toBe("120")
  expect(await page.getByTestId("rl-recent").textContent()).toBe("policy 1 over 60 · heuristic 0.25 over 60")
  const chart = page.getByRole("img", { name: /Mean reward per run of decisions/ })
  await chart.waitFor()
  expect(await chart.locator("polyline").count()).toBe(2)
  expect(await page.locator("figcaption").textContent()).toContain("policy (linucb)")
  await context.close()
})
