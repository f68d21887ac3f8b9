import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test"
import type { Browser, Page } from "playwright-core"
import { binary } from "../support/cli"
import { CLAUDE, claudeEnv, SONNET } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { launchBrowser, newPage, screenshot, sessionCookie, signIn, uiDaemon, type UiDaemon } from "./support"

setDefaultTimeout(120_000)

// The dashboard in Debian's Chromium against a real daemon whose pool runs
// the real `claude` (stream and pty agents, and `cca mcp --agent` from the
// compiled binary for the coordinator's delegation) against a scripted model.
// One browser for the file; each test signs in in a fresh context.

let u: UiDaemon
let model: ModelServer
let browser: Browser
let workspace: TmpDir
const delegate = "mcp__cca__cca_delegate"
const usage = { input: 1234, output: 56, cacheCreation: 0, cacheRead: 0 }

beforeAll(async () => {
  model = await startModelServer([
    { match: { system: "# Role: backend", lastUserText: "ui: add the orders endpoint" }, reply: { content: "orders endpoint added", usage } },
    { match: { system: "# Role: qa", lastUserText: "ui: endless report" }, reply: { content: "never", delayMs: 120_000 } },
    { match: { system: "# Role: coordinator", lastUserText: "ui: ship the signup feature", toolResult: false }, reply: { content: [{ type: "tool_use", name: delegate, input: { task: "ui: build the signup API", role: "backend", wait: true } }] } },
    { match: { system: "# Role: backend", lastUserText: "ui: build the signup API" }, reply: { content: "signup API built" } },
    { match: { system: "# Role: coordinator", toolResult: { name: delegate } }, reply: { content: "signup shipped" } },
    { match: { lastUserText: "draw a button" }, reply: { content: "button drawn" } },
  ])
  workspace = await tmpdir({ prefix: "cca-ui-agents-" })
  u = await uiDaemon({ agents: { claude_path: CLAUDE, model: SONNET, max_agents: 4 } }, { pool: { env: claudeEnv(model), mcpCommand: [binary("cca")], workspace: workspace.path } })
  browser = await launchBrowser()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await u?.[Symbol.asyncDispose]()
  await model?.close()
  await workspace?.[Symbol.asyncDispose]()
})

async function signedIn(viewport?: { width: number; height: number }): Promise<Page> {
  const { page } = await newPage(browser, viewport)
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`))
  await signIn(page, u)
  await page.getByTestId("overview").waitFor()
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor()
  return page
}

async function createTask(page: Page, description: string, opts: { coordinate?: boolean; role?: string } = {}): Promise<string> {
  await page.getByRole("link", { name: "Tasks" }).click()
  await page.getByLabel("Description").fill(description)
  if (opts.role) await page.getByLabel("Role (optional)").fill(opts.role)
  if (opts.coordinate) await page.getByLabel("Coordinate (split into subtasks)").check()
  await page.getByRole("button", { name: "Create task" }).click()
  await page.getByTestId("task-page").waitFor()
  return new URL(page.url()).pathname.split("/").pop()!
}

const taskStatus = (page: Page, status: string, timeout = 90_000) => page.locator(`[data-testid="task-page"][data-status="${status}"]`).waitFor({ timeout })

test("a wrong key shows an error and no session", async () => {
  const { context, page } = await newPage(browser)
  await signIn(page, u, "cca_wrongid_0000000000000000000000")
  await expect(page.getByRole("alert").textContent()).resolves.toContain("not valid")
  expect(await sessionCookie(context, u)).toBeUndefined()
  await screenshot(page, "sign-in-error")
  await context.close()
})

test("sign in: the overview renders live, at 1280 px and at 390 px, keyboard first", async () => {
  const page = await signedIn()
  expect(await page.getByTestId("health").textContent()).toContain("store")
  expect(await page.getByRole("navigation", { name: "Main" }).getByRole("link").count()).toBe(7)
  // The first Tab reaches the skip link, which moves focus to the content.
  await page.keyboard.press("Tab")
  expect(await page.evaluate("document.activeElement?.textContent")).toBe("Skip to content")
  await screenshot(page, "overview")
  const small = await signedIn({ width: 390, height: 844 })
  const width = await small.evaluate("document.documentElement.scrollWidth")
  expect(width as number).toBeLessThanOrEqual(390) // nothing forces sideways scrolling of the page
  await screenshot(small, "overview-390")
  await page.context().close()
  await small.context().close()
})

test("create a task in the page and see it complete live on a real agent; its transcript is live on the agent's page", async () => {
  const page = await signedIn()
  const id = await createTask(page, "ui: add the orders endpoint", { role: "backend" })
  await taskStatus(page, "completed")
  expect(await page.getByTestId("task-result").textContent()).toBe("orders endpoint added")
  const events = await page.getByTestId("task-events").locator("li").evaluateAll((lis) => lis.map((li) => li.getAttribute("data-event")))
  expect(events).toEqual(["created", "claimed", "accepted", "completed"])
  expect(await page.getByText("1,234 in").count()).toBe(1)
  await screenshot(page, "task")
  // the overview counted it (tokens today) without a reload
  await page.getByRole("link", { name: "Overview" }).click()
  await page.getByTestId("tokens-in").filter({ hasText: "1,234" }).waitFor()
  expect(await page.getByTestId("activity").textContent()).toContain(id.slice(0, 8))
  await screenshot(page, "overview-live")
  // the stream agent's transcript
  const agentId = ((await (await u.api("GET", `/api/v1/tasks/${id}`)).json()) as { agentId: string }).agentId
  await page.goto(`${u.url}/ui/agents/${agentId}`)
  await page.getByTestId("agent-log").getByText("orders endpoint added").waitFor()
  await page.getByRole("textbox", { name: "Message", exact: true }).fill("ui: add the orders endpoint")
  await page.getByRole("button", { name: "Send" }).click()
  await page.getByTestId("agent-log").getByText("orders endpoint added").nth(1).waitFor() // the second answer arrives live
  await screenshot(page, "agent-transcript")
  await page.context().close()
})

test("cancel a running task from its page", async () => {
  const page = await signedIn()
  await createTask(page, "ui: endless report", { role: "qa" })
  await taskStatus(page, "running")
  await page.getByRole("button", { name: "Cancel task" }).click()
  await taskStatus(page, "cancelled", 30_000)
  expect(await page.getByTestId("task-events").locator('li[data-event="cancelled"]').count()).toBe(1)
  await page.context().close()
})

test("a coordinated task's tree fills in as the coordinator delegates", async () => {
  const page = await signedIn()
  const id = await createTask(page, "ui: ship the signup feature", { coordinate: true })
  const tree = page.getByTestId("task-tree")
  await tree.locator('li li[data-status="completed"]').filter({ hasText: "ui: build the signup API" }).waitFor({ timeout: 90_000 })
  await taskStatus(page, "completed")
  await tree.locator(`li[data-tree-task="${id}"][data-status="completed"]`).waitFor()
  expect(await tree.locator("li").count()).toBe(2)
  await screenshot(page, "task-tree")
  await page.context().close()
})

test("spawn a pty agent in the page, type into its terminal, see the answer", async () => {
  const page = await signedIn()
  await page.getByRole("link", { name: "Agents" }).click()
  await page.getByLabel("Role").fill("frontend")
  await page.getByLabel("Driver").selectOption("pty")
  await page.getByRole("button", { name: "Spawn agent" }).click()
  await page.getByTestId("agent-page").waitFor({ timeout: 90_000 })
  await page.getByTestId("terminal-status").filter({ hasText: /^attached/ }).waitFor()
  const terminal = page.getByTestId("terminal")
  const screen = async () => ((await terminal.textContent()) ?? "").replace(/\s+/g, "")
  await terminal.click()
  await page.keyboard.type("draw a button")
  await page.waitForFunction((el) => (el?.textContent ?? "").replace(/\s+/g, "").includes("drawabutton"), await terminal.elementHandle())
  await page.keyboard.press("Enter")
  await page.waitForFunction((el) => (el?.textContent ?? "").replace(/\s+/g, "").includes("buttondrawn"), await terminal.elementHandle(), { timeout: 60_000 })
  expect(await screen()).toContain("buttondrawn")
  await screenshot(page, "terminal")
  await page.context().close()
})

test("panels of capabilities this daemon lacks say so (their routes answer 501)", async () => {
  const page = await signedIn()
  for (const [link, probe] of [
    ["Memory", "/api/v1/memory/search"],
    ["Code", "/api/v1/code/search"],
    ["Routing", "/api/v1/rl/status"],
    ["Tokens", "/api/v1/tokens/metrics"],
  ] as const) {
    const res = await u.api(probe.endsWith("search") ? "POST" : "GET", probe, probe.endsWith("search") ? { query: "x" } : undefined)
    await page.getByRole("link", { name: link, exact: true }).click()
    const search = page.getByRole("searchbox")
    if (probe.endsWith("search")) {
      await search.fill("retry with backoff")
      await page.getByRole("button", { name: "Search" }).click()
    }
    if (res.status === 501) await page.getByText("Not in this build.").waitFor()
    else await page.locator(".notice.missing").waitFor({ state: "detached" }) // a real route: no notice
  }
  await page.context().close()
})

test("sign out: the page goes back to sign-in and the API refuses the old cookie", async () => {
  const page = await signedIn()
  const cookie = (await sessionCookie(page.context(), u))!
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" })
  expect(await page.evaluate("document.cookie")).toBe("") // the page itself cannot read it
  expect(await page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")).not.toContain(u.key)
  await page.getByRole("button", { name: "Sign out" }).click()
  await page.getByLabel("API key").waitFor()
  const res = await fetch(`${u.url}/api/v1/status`, { headers: { cookie: `${cookie.name}=${cookie.value}` } })
  expect(res.status).toBe(401)
  await page.context().close()
})

test("an expired session goes back to sign-in", async () => {
  const page = await signedIn()
  u.advance(13 * 3600_000) // past ui.session_ttl_s (12 h)
  await page.getByRole("link", { name: "Tasks" }).click()
  await page.getByText("Your session has ended. Sign in again.").waitFor()
  await page.getByLabel("API key").waitFor()
  await page.context().close()
})

test("a daemon restart reconnects the live views", async () => {
  const page = await signedIn()
  // Record every state the connection indicator goes through (page code, as a string: this file has no DOM types).
  await page.evaluate(`(() => {
    const el = document.querySelector('[data-testid="connection"]')
    window.states = []
    new MutationObserver(() => window.states.push(el.getAttribute("data-state"))).observe(el, { attributes: true })
  })()`)
  await u.restart()
  // The stream dropped and came back by itself, with the same session.
  await page.waitForFunction(
    () => {
      const states = (globalThis as unknown as { states: string[] }).states
      return states.includes("reconnecting") && states.at(-1) === "live"
    },
    undefined,
    { timeout: 30_000 },
  )
  const created = ((await (await u.api("POST", "/api/v1/tasks", { description: "after the restart", role: "nobody" })).json()) as { id: string }).id
  await page.getByTestId("activity").getByText(created.slice(0, 8)).waitFor({ timeout: 30_000 })
  await page.getByTestId("queue").filter({ hasText: /^[1-9]/ }).waitFor()
  await page.context().close()
}, 120_000)
