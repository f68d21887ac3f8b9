import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test"
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import type { Browser } from "playwright-core"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { launchBrowser, newPage, signIn, uiDaemon, type UiDaemon } from "./support"

setDefaultTimeout(120_000)

// The Code panel searches an index the daemon really built: two files of
// Python's standard library, indexed through POST /api/v1/code/index.

let u: UiDaemon
let browser: Browser
let root: TmpDir

beforeAll(async () => {
  root = await tmpdir({ prefix: "cca-ui-code-" })
  await mkdir(join(root.path, "lib"))
  for (const f of ["textwrap.py", "heapq.py"]) await writeFile(join(root.path, "lib", f), await Bun.file(`/usr/lib/python3.11/${f}`).text())
  u = await uiDaemon({ indexing: { roots: [root.path] }, embeddings: { provider: "hash" } })
  const job = (await (await u.api("POST", "/api/v1/code/index", { path: root.path })).json()) as { id: string }
  const progress = await u.api("GET", `/api/v1/code/index/${job.id}`, undefined, { accept: "text/event-stream" })
  expect(await progress.text()).toContain("event: done")
  browser = await launchBrowser()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await u?.[Symbol.asyncDispose]()
  await root?.[Symbol.asyncDispose]()
})

test("the Code panel finds a function by what it does, with its path, line and signature", async () => {
  const { page, context } = await newPage(browser)
  await signIn(page, u)
  await page.getByRole("link", { name: "Code", exact: true }).click()
  await page.getByRole("searchbox").fill("remove common leading whitespace from lines")
  await page.getByRole("button", { name: "Search" }).click()
  const first = page.getByTestId("code-results").locator("li").first()
  await first.waitFor()
  expect(await first.locator("code").textContent()).toMatch(/^lib\/textwrap\.py:\d+$/)
  expect(await first.locator("strong").textContent()).toBe("dedent")
  expect(await first.locator("pre").textContent()).toBe("def dedent(text)")
  await context.close()
})
