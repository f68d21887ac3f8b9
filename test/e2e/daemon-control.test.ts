import { afterAll, beforeAll, expect, test } from "bun:test"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { alive } from "../../src/daemon/control"
import { cli } from "../support/cli"
import { runInPty } from "../support/pty"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { homeEnv } from "./daemon-process"

// `cca daemon stop|status|restart` against a real `cca daemon --detach`
// (the compiled binary, its own data dir, free ports).

let tmp: TmpDir
let env: Record<string, string>
const pids = new Set<number>()

beforeAll(async () => {
  tmp = await tmpdir({ prefix: "cca-ctl-" })
  env = homeEnv(tmp.path, { CCA__DAEMON__SHUTDOWN_GRACE_S: "1" })
})

afterAll(async () => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL")
  await tmp?.[Symbol.asyncDispose]()
})

const cca = (args: string[]) => cli(args, { name: "cca", env, timeoutMs: 90_000 })
const pidFile = () => join(env.XDG_DATA_HOME!, "cca", "run", "daemon.pid")

test("status, restart and stop of a detached daemon; none running is exit 1 for status and a no-op for stop", { timeout: 180_000 }, async () => {
  const none = await cca(["daemon", "status"])
  expect(none.code).toBe(1)
  expect(none.stderr).toContain("no daemon is running")
  expect(none.stderr).toContain("Try: cca daemon --detach")

  const started = await cca(["daemon", "--detach", "--port", "0", "--acp-port", "0", "--json"])
  expect(started.code).toBe(0)
  const first = started.json().data as { pid: number; http: string; acp: string }
  pids.add(first.pid)

  const status = await cca(["daemon", "status", "--json"])
  expect(status.code).toBe(0)
  expect(status.json().data).toMatchObject({ running: true, pid: first.pid, http: first.http, acp: first.acp, health: "ok" })
  const text = await cca(["daemon", "status"])
  expect(text.stdout).toMatch(/state:\s+running \(ok\)/)

  const restarted = await cca(["daemon", "restart", "--json"])
  expect(restarted.code).toBe(0)
  const second = restarted.json().data as { pid: number; http: string; acp: string }
  pids.add(second.pid)
  expect(second.pid).not.toBe(first.pid)
  expect(alive(first.pid)).toBe(false) // the old one exited before the new one took the data dir
  expect({ http: second.http, acp: second.acp }).toEqual({ http: first.http, acp: first.acp }) // same ports: clients find it again
  expect(((await (await fetch(`${second.http}/api/v1/health`)).json()) as { status: string }).status).toBe("ok")

  const stopped = await cca(["daemon", "stop", "--json"])
  expect(stopped.code).toBe(0)
  expect(stopped.json().data).toMatchObject({ stopped: true, pid: second.pid, killed: false })
  expect(alive(second.pid)).toBe(false)
  expect(existsSync(pidFile())).toBe(false)
  expect((await cca(["daemon", "status"])).code).toBe(1)

  const again = await cca(["daemon", "stop"])
  expect(again.code).toBe(0)
  expect(again.stdout).toContain("no daemon was running")
  expect(again.stderr).not.toContain("is running") // it did not start a daemon
  expect(existsSync(pidFile())).toBe(false)
})

test("words the daemon commands do not take are usage errors, not a daemon start", async () => {
  for (const args of [["daemon", "stop", "now"], ["daemon", "halt"], ["daemon", "stop", "--timeout", "soon"]]) {
    const r = await cca(args)
    expect({ args, code: r.code }).toEqual({ args, code: 2 })
  }
  expect(existsSync(pidFile())).toBe(false)
})

test("`cca daemon` on a terminal prints its human lines only; the JSON ready line is for programs reading stdout", { timeout: 120_000 }, async () => {
  await using run = runInPty(["daemon", "--port", "0", "--acp-port", "0"], { env })
  await run.waitFor(/cca daemon \S+ is running \(pid (\d+)\)/, 90_000)
  expect(run.output()).not.toContain('{"ready"')
  run.proc.kill("SIGTERM")
  expect(await run.proc.exited).toBe(0)
})
