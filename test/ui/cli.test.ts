import { afterAll, beforeAll, expect, test } from "bun:test"
import { chmodSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { cli } from "../support/cli"
import { uiDaemon, type UiDaemon } from "./support"

// `cca ui` (the compiled binary): the dashboard's URL, opened in the user's
// browser ($BROWSER here, a script that records what it was given) or
// printed when there is no display. The key never goes into the URL.

let u: UiDaemon

beforeAll(async () => {
  u = await uiDaemon()
}, 60_000)

afterAll(async () => {
  await u?.[Symbol.asyncDispose]()
})

const noDisplay = { DISPLAY: undefined, WAYLAND_DISPLAY: undefined, BROWSER: undefined }

test("with no display it prints the URL, and the URL serves the dashboard", async () => {
  const r = await cli(["ui"], { name: "cca", env: { ...noDisplay, CCA_DAEMON_URL: u.url, CCA_API_KEY: u.key } })
  expect(r.code, r.stderr).toBe(0)
  expect(r.stdout.trim()).toBe(`${u.url}/ui/`)
  expect(r.stderr).toContain("no display")
  expect(r.stdout + r.stderr).not.toContain(u.key)
  expect((await fetch(r.stdout.trim())).status).toBe(200)
  const json = await cli(["ui", "--json"], { name: "cca", env: { ...noDisplay, CCA_DAEMON_URL: u.url } })
  expect(json.json().data).toEqual({ url: `${u.url}/ui/`, opened: false, via: null })
}, 30_000)

test("with $BROWSER it opens the URL there", async () => {
  const record = join(u.tmp.path, "opened.txt")
  const script = join(u.tmp.path, "browser.sh")
  await Bun.write(script, `#!/bin/sh\nprintf '%s' "$1" > ${record}\n`)
  chmodSync(script, 0o755)
  const r = await cli(["ui"], { name: "cca", env: { ...noDisplay, BROWSER: script, CCA_DAEMON_URL: u.url } })
  expect(r.code, r.stderr).toBe(0)
  expect(r.stdout).toContain(`opened ${u.url}/ui/`)
  expect(readFileSync(record, "utf8")).toBe(`${u.url}/ui/`)
}, 30_000)

test("with no daemon it says how to start one (exit 5)", async () => {
  const r = await cli(["ui"], { name: "cca", env: { ...noDisplay, CCA_DAEMON_URL: "http://127.0.0.1:9" } })
  expect(r.code).toBe(5)
  expect(r.stderr).toContain("cca daemon")
}, 30_000)
