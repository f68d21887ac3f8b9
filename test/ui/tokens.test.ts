import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test"
import type { Browser } from "playwright-core"
import { launchBrowser, newPage, signIn, uiDaemon, type UiDaemon } from "./support"

setDefaultTimeout(120_000)

// The Tokens panel reads GET /api/v1/tokens/metrics as src/tokens answers it:
// per-day usage of finished tasks (as the orchestrator records Claude Code's
// reported usage) and the savings of compressions the daemon ran.

let u: UiDaemon
let browser: Browser

beforeAll(async () => {
  u = await uiDaemon()
  const tasks = u.daemon.ctx.store.tasks
  for (const [i, input] of [1000, 3000].entries()) {
    const { task } = (await tasks.create({ description: `add the report ${i}` }))!
    await tasks.claim(task.id, { owner: "test" })
    await tasks.complete(task.id, "done", { usage: { inputTokens: input, outputTokens: 100, cacheReadTokens: 0, cacheCreationTokens: 0 }, costUsd: 1.25 })
  }
  // the same paragraph five times: deduplicate keeps the first and refers back to it
  const paragraph = ["Step 1: fetch the dependencies", "Step 2: build the bundle", "Step 3: run the unit tests", "Step 4: publish the artefact"].join("\n")
  const repeated = Array.from({ length: 5 }, () => paragraph).join("\n\n")
  const c = await u.api("POST", "/api/v1/tokens/compress", { content: repeated })
  expect(c.status).toBe(200)
  browser = await launchBrowser()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await u?.[Symbol.asyncDispose]()
})

test("metrics sum the finished tasks' reported usage per day and record what compression saved", async () => {
  const m = (await (await u.api("GET", "/api/v1/tokens/metrics")).json()) as { by_day: { day: string; input_tokens: number; output_tokens: number; cost_usd: number; tasks: number }[]; savings_by_strategy: Record<string, { tokens_saved: number }> }
  expect(m.by_day).toHaveLength(1)
  expect(m.by_day[0]).toMatchObject({ day: new Date().toISOString().slice(0, 10), tasks: 2, input_tokens: 4000, output_tokens: 200, cost_usd: 2.5 })
  const saved = Object.values(m.savings_by_strategy).reduce((n, s) => n + s.tokens_saved, 0)
  expect(saved).toBeGreaterThan(0)
})

test("the Tokens panel draws the usage per day, the cost, and the savings per strategy", async () => {
  const { page, context } = await newPage(browser)
  await signIn(page, u)
  await page.getByRole("link", { name: "Tokens", exact: true }).click()
  const chart = page.getByRole("img", { name: /Tokens per day/ })
  await chart.waitFor()
  expect(await chart.locator("polyline").count()).toBe(2)
  await page.getByText("Cost over these days: $2.50").waitFor()
  const rows = page.getByTestId("token-savings").locator("tbody tr")
  expect(await rows.count()).toBeGreaterThan(0)
  expect(await rows.first().locator("td").textContent()).not.toBe("NaN")
  await context.close()
})
