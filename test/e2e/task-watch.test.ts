import { afterAll, beforeAll, expect, test } from "bun:test"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { AcpClient } from "../../src/acp/client"
import { cli } from "../support/cli"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { api, createKey, homeEnv, startDaemonProcess, waitForTaskEvent, type DaemonProcess } from "./daemon-process"

// `cca task watch` on a task that stays quiet: the daemon's keepalive comments
// (daemon.sse_keepalive_s) keep the stream alive past the client's idle
// timeout (client.stream_idle_s), and a stream that does go silent is resumed
// from its Last-Event-ID with no event shown twice. Both intervals are made
// small here so nothing waits for the production 15 s / 45 s.

let tmp: TmpDir
let env: Record<string, string>
let key: string
let d: DaemonProcess
let holder: AcpClient

beforeAll(async () => {
  tmp = await tmpdir({ prefix: "cca-watch-" })
  env = homeEnv(tmp.path, { CCA__DAEMON__SSE_KEEPALIVE_S: "0.2" })
  key = await createKey(env)
  d = await startDaemonProcess(env)
  holder = new AcpClient({ url: d.ready.acp, apiKey: key, agent: { agentId: "watch-holder", role: "holder" }, handlers: { taskAssign: () => ({ accepted: true }) }, reconnect: false })
  await holder.connect()
}, 120_000)

afterAll(async () => {
  await holder?.close().catch(() => {})
  if (d && d.proc.exitCode === null) d.proc.kill("SIGKILL")
  await d?.exited
  await tmp?.[Symbol.asyncDispose]()
})

const cliLog = () => join(env.XDG_DATA_HOME!, "cca", "logs", "cli.log")
const resumed = (id: string) => (existsSync(cliLog()) ? readFileSync(cliLog(), "utf8").split("\n").filter((l) => l.includes(`task ${id}:`) && l.includes("resuming after event")) : [])

function watch(id: string, idleS: string) {
  // The request timeout (1 s) is shorter than the watch: it bounds the wait for the stream's headers only.
  return cli(["task", "watch", id], { name: "cca", env: { ...env, CCA_API_KEY: key, CCA__CLIENT__STREAM_IDLE_S: idleS, CCA__CLIENT__TIMEOUT_S: "1" }, timeoutMs: 60_000 })
}

/** Waits until `n` keepalive comments have come on the task's stream: quiet time has passed, measured by the daemon's own heartbeat. */
async function keepalives(id: string, n: number): Promise<void> {
  const res = await api(d.ready, key)("GET", `/api/v1/tasks/${id}/events`)
  const reader = res.body!.getReader()
  let text = ""
  while ((text.match(/^: keepalive$/gm) ?? []).length < n) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`the stream ended: ${text}`)
    text += new TextDecoder().decode(value)
  }
  await reader.cancel()
}

const shown = (stdout: string) => stdout.split("\n").map((l) => l.slice(10).split(" ")[0]).filter((t) => t && /^[a-z]+$/.test(t))

test("a task quiet for longer than the client's idle timeout: keepalives hold the stream, the watch ends with the task", { timeout: 60_000 }, async () => {
  const id = (await cli(["task", "create", "hold on", "--role", "holder"], { name: "cca", env: { ...env, CCA_API_KEY: key } })).stdout.trim()
  await waitForTaskEvent(d.ready, key, id, "accepted")
  const watching = watch(id, "0.6")
  // Eight keepalives (~1.6 s) with no event: past the watch's 0.6 s idle timeout and its 1 s request timeout.
  await keepalives(id, 8)
  await holder.result({ taskId: id, status: "completed", output: "done at last" })
  const r = await watching
  expect(r.code).toBe(0)
  expect(shown(r.stdout)).toEqual(["created", "claimed", "accepted", "completed"])
  expect(r.stderr).not.toContain("timed out")
  expect(resumed(id)).toEqual([]) // never silent: no reconnection was needed
})

test("a stream silent past the idle timeout is resumed from Last-Event-ID: every event once, in order", { timeout: 60_000 }, async () => {
  const id = (await cli(["task", "create", "hold on again", "--role", "holder"], { name: "cca", env: { ...env, CCA_API_KEY: key } })).stdout.trim()
  await waitForTaskEvent(d.ready, key, id, "accepted")
  // 0.1 s of patience against keepalives every 0.2 s: the watch's stream goes idle again and again.
  const watching = watch(id, "0.1")
  const deadline = Date.now() + 30_000
  while (resumed(id).length < 2) {
    if (Date.now() > deadline) throw new Error(`the watch never resumed its stream; cli.log:\n${existsSync(cliLog()) ? readFileSync(cliLog(), "utf8") : "(none)"}`)
    await Bun.sleep(50) // polling the log file for the condition
  }
  const lastIds = resumed(id).map((l) => Number(l.split("resuming after event ")[1]))
  expect(lastIds.every((n) => n > 0)).toBe(true) // it resumed after the events it had, not from the start
  await holder.result({ taskId: id, status: "completed", output: "resumed fine" })
  const r = await watching
  expect(r.code).toBe(0)
  expect(shown(r.stdout)).toEqual(["created", "claimed", "accepted", "completed"])
  expect(r.stdout).toContain("resumed fine")
})
