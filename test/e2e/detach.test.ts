import { expect, test } from "bun:test"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { cli } from "../support/cli"
import { tmpdir } from "../support/tmpdir"
import { createKey, homeEnv } from "./daemon-process"

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function exitOf(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still running after ${timeoutMs} ms`)
    await Bun.sleep(20) // not our child: poll for its exit
  }
}

test("cca daemon --detach returns once the daemon is ready, logs to daemon.log, and refuses a second one", async () => {
  await using tmp = await tmpdir({ prefix: "cca-e2e-detach-" })
  const env = homeEnv(tmp.path)
  const key = await createKey(env)
  const started = await cli(["daemon", "--detach", "--port", "0", "--acp-port", "0"], { name: "cca", env, timeoutMs: 90_000 })
  expect(started.code).toBe(0)
  const ready = JSON.parse(started.stdout.split("\n")[0]!)
  expect(ready).toMatchObject({ ready: true })
  expect(ready.http).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  try {
    expect(alive(ready.pid)).toBe(true)
    const status = await cli(["status", "--json"], { name: "cca", env: { ...env, CCA_API_KEY: key } })
    expect(status.json().data.daemon).toMatchObject({ pid: ready.pid, http: ready.http })
    const again = await cli(["daemon", "--detach", "--port", "0", "--acp-port", "0"], { name: "cca", env })
    expect(again.code).toBe(5)
    expect(again.stderr).toContain(`pid ${ready.pid}`)
    const log = join(env.XDG_DATA_HOME!, "cca", "logs", "daemon.log")
    expect(readFileSync(log, "utf8")).toContain("listening: http")
  } finally {
    process.kill(ready.pid, "SIGTERM")
    await exitOf(ready.pid, 30_000)
  }
  expect(existsSync(join(env.XDG_DATA_HOME!, "cca", "run", "daemon.pid"))).toBe(false)
}, 120_000)
