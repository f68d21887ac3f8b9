import { existsSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import type { Browser, BrowserContext, Page } from "playwright-core"
import * as v from "valibot"
import { generateKey } from "../../src/config/keys"
import { CcaConfig } from "../../src/config/schema"
import { startDaemon, type DaemonOptions, type RunningDaemon } from "../../src/daemon/server"
import { createLogger } from "../../src/log"
import { tmpdir, type TmpDir } from "../support/tmpdir"

// The dashboard's test fixtures: a real daemon in this process that can be
// restarted on the same port and data directory (sessions live in its
// store), a session clock the test moves, and Debian's Chromium driven by
// playwright-core (one browser per test file; a fresh context, so a fresh
// cookie jar, per test).

export const CHROMIUM = "/usr/bin/chromium"
export const ARTIFACTS = join(import.meta.dir, "..", "..", "dist", "test-artifacts", "ui")

type Sections = { [K in keyof CcaConfig]?: Partial<CcaConfig[K]> }

export type UiDaemon = {
  daemon: RunningDaemon
  /** http://127.0.0.1:PORT */
  url: string
  key: string
  keyId: string
  tmp: TmpDir
  /** Moves the sessions' clock forward. */
  advance(ms: number): void
  /** Stops the daemon and starts a new one on the same port, data directory and keys. */
  restart(): Promise<void>
  /** A request with the API key (or `key: null` for none). */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>
  [Symbol.asyncDispose](): Promise<void>
}

export async function uiDaemon(sections: Sections = {}, opts: Pick<DaemonOptions, "pool" | "stages" | "endHooks"> = {}): Promise<UiDaemon> {
  const tmp = await tmpdir({ prefix: "cca-ui-test-" })
  const { key, hash, id } = generateKey()
  let offset = 0
  const log = createLogger("ui-test", { file: join(tmp.path, "daemon.log") })
  const noPool = sections.agents === undefined && opts.pool === undefined ? { maxAgents: 0 } : {}
  const start = (port: number) => {
    const config = v.parse(CcaConfig, {
      ...sections,
      daemon: { http_port: port, acp_port: 0, api_keys: [hash], id: `ui-${id}`, shutdown_grace_s: 1, ...sections.daemon },
      // Any task role accepted: tests queue tasks no agent will take.
      tasks: { roles: ["*"], ...sections.tasks },
      postgres: { data_dir: join(tmp.path, "pg"), ...sections.postgres },
    })
    return startDaemon({
      config,
      lock: false,
      log,
      sessionClock: () => Date.now() + offset,
      stages: opts.stages,
      endHooks: opts.endHooks,
      pool: { stateRoot: join(tmp.path, "agents"), workspace: tmp.path, ...noPool, ...opts.pool },
    })
  }
  let daemon = await start(0)
  const port = Number(new URL(daemon.http).port)
  const u: UiDaemon = {
    daemon,
    url: daemon.http,
    key,
    keyId: id,
    tmp,
    advance(ms) {
      offset += ms
    },
    async restart() {
      await daemon.stop("restart")
      daemon = await start(port)
      u.daemon = daemon
    },
    api(method, path, body, headers = {}) {
      return fetch(`${daemon.http}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    },
    async [Symbol.asyncDispose]() {
      await daemon.stop("test done")
      await tmp[Symbol.asyncDispose]()
    },
  }
  return u
}

/** ENVIRONMENT.md's flags; playwright gives every launch a fresh temporary profile (--user-data-dir). */
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the dashboard tests drive Debian's Chromium (apt-get install -y chromium)`)
  const { chromium } = await import("playwright-core")
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 })
}

/** A fresh context (cookie jar) and page, 1280 px wide unless told. */
export async function newPage(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport })
  const page = await context.newPage()
  page.setDefaultTimeout(30_000)
  return { context, page }
}

export async function signIn(page: Page, u: UiDaemon, key = u.key): Promise<void> {
  await page.goto(`${u.url}/ui/`)
  await page.getByLabel("API key").fill(key)
  await page.getByRole("button", { name: "Sign in" }).click()
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true })
  const path = join(ARTIFACTS, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  return path
}

/** The session cookie of a context, as the daemon named it. */
export async function sessionCookie(context: BrowserContext, u: UiDaemon) {
  const port = new URL(u.url).port
  return (await context.cookies(u.url)).find((c) => c.name === `cca_session_${port}`)
}
