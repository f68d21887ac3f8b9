import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test"
import type { Browser } from "playwright-core"
import { launchBrowser, newPage, signIn, uiDaemon, type UiDaemon } from "./support"

setDefaultTimeout(120_000)

// The Memory panel searches POST /api/v1/memory/search of a real daemon and
// shows the patterns it stored (hash embedder), closest first, with kind,
// similarity and counts.

let u: UiDaemon
let browser: Browser

beforeAll(async () => {
  u = await uiDaemon({ embeddings: { provider: "hash" } })
  for (const [title, content, kind] of [
    ["Retry with exponential backoff", "Retry failed HTTP calls with exponential backoff and jitter, at most 5 times.", "error_recovery"],
    ["Profile before optimising", "Measure with a profiler before changing code for speed.", "optimization"],
  ]) {
    const r = await u.api("POST", "/api/v1/memory/store", { title, content, kind })
    expect(r.status).toBe(201)
  }
  browser = await launchBrowser()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await u?.[Symbol.asyncDispose]()
})

test("the Memory panel lists the stored patterns a search finds, closest first", async () => {
  const { page, context } = await newPage(browser)
  await signIn(page, u)
  await page.getByRole("link", { name: "Memory", exact: true }).click()
  await page.getByRole("searchbox").fill("retry failed HTTP calls with backoff")
  await page.getByRole("button", { name: "Search" }).click()
  const results = page.getByTestId("memory-results")
  await results.waitFor()
  const items = results.locator("li")
  expect(await items.count()).toBe(2)
  const first = (await items.first().textContent()) ?? ""
  expect(first).toContain("Retry with exponential backoff")
  expect(first).toContain("error_recovery")
  expect(first).toContain("not used yet")
  expect(first).toMatch(/similarity 0\.\d{3}/)
  expect(await page.getByText(/2 patterns \(hybrid, hash:fh1\)/).count()).toBe(1)
  await context.close()
})
