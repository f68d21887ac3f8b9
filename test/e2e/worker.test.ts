import { afterAll, expect, setDefaultTimeout, test } from "bun:test"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { binary } from "../support/cli"
import { CLAUDE, claudeEnv, SONNET, sonnetCost } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { api, createKey, homeEnv, startDaemonProcess, waitForTaskEvent, type DaemonProcess } from "./daemon-process"
import { freePort, stopProcesses } from "../support/ports"

setDefaultTimeout(180_000)

// `cca worker` (the compiled binary, its own HOME: another machine as far as
// it knows) serving the compiled daemon over ACP. Its agents have a role only
// the worker's machine defines, so the daemon cannot run the task itself. The
// daemon is killed while the worker's agent runs the task; the restarted
// daemon (same ACP port) gets the task back from the reconnecting worker and
// records its result with the scripted model's tokens.

const USAGE = { input: 4321, output: 87, cacheCreation: 120, cacheRead: 2500 }

let tmp: TmpDir
let model: ModelServer
let d: DaemonProcess | undefined
let worker: Bun.Subprocess<"ignore", "pipe", "pipe"> | undefined

afterAll(async () => {
  await stopProcesses([worker, d?.proc])
  await model?.close()
  await tmp?.[Symbol.asyncDispose]()
})

test("a worker process takes a task; it outlives a daemon killed mid-task and reports to the restarted one", async () => {
  model = await startModelServer([{ match: { system: "# Role: reviewer", lastUserText: "e2e: review the release" }, reply: { content: "release reviewed", usage: USAGE, delayMs: 6_000 } }])
  tmp = await tmpdir({ prefix: "cca-e2e-worker-" })
  const daemonEnv = homeEnv(join(tmp.path, "daemon"), { ...claudeEnv(model), CCA__AGENTS__CLAUDE_PATH: CLAUDE, CCA__DAEMON__SHUTDOWN_GRACE_S: "1" })
  const key = await createKey(daemonEnv)
  const acpPort = String(freePort())
  d = await startDaemonProcess(daemonEnv, ["--acp-port", acpPort])

  const workerEnv = homeEnv(join(tmp.path, "worker"), { ...claudeEnv(model), CCA_API_KEY: key, CCA__AGENTS__CLAUDE_PATH: CLAUDE, CCA__AGENTS__MODEL: SONNET, CCA__AGENTS__WORKSPACE: tmp.path })
  mkdirSync(join(workerEnv.XDG_CONFIG_HOME!, "cca", "roles"), { recursive: true })
  writeFileSync(join(workerEnv.XDG_CONFIG_HOME!, "cca", "roles", "reviewer.md"), "# Role: reviewer\nYou review releases.")
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, ...workerEnv })) if (v !== undefined) env[k] = v
  worker = Bun.spawn([binary("cca"), "worker", "--daemon", d.ready.acp, "--role", "reviewer", "--id-prefix", "far"], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" })
  let stderr = ""
  void (async () => {
    for await (const chunk of worker!.stderr) stderr += new TextDecoder().decode(chunk)
  })()
  const reader = worker.stdout.getReader()
  let out = ""
  while (!out.includes("\n")) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`cca worker exited before it was ready (${await worker.exited}): ${stderr}`)
    out += new TextDecoder().decode(value)
  }
  expect(JSON.parse(out.slice(0, out.indexOf("\n")))).toMatchObject({ ready: true, role: "reviewer", agents: ["far-1"] })

  const call = async (method: string, path: string, body?: unknown) => (await api(d!.ready, key)(method, path, body)).json() as Promise<any>
  expect(await call("GET", "/api/v1/agents/far-1")).toMatchObject({ kind: "remote", role: "reviewer", status: "idle" })
  const { id } = await call("POST", "/api/v1/tasks", { description: "e2e: review the release", role: "reviewer" })
  await waitForTaskEvent(d.ready, key, id, "accepted")
  await model.waitFor((r) => r.conversation?.lastUserText === "e2e: review the release")

  // The daemon dies mid-task; the worker's agent goes on with the turn.
  d.proc.kill("SIGKILL")
  expect(await d.exited).toBe(137)
  d = await startDaemonProcess(daemonEnv, ["--acp-port", acpPort])
  await waitForTaskEvent(d.ready, key, id, "completed")
  const task = await call("GET", `/api/v1/tasks/${id}`)
  expect(task).toMatchObject({ status: "completed", agentId: "far-1", result: "release reviewed", attempts: 2 })
  expect(task.usage).toMatchObject({ inputTokens: USAGE.input, outputTokens: USAGE.output, cacheReadTokens: USAGE.cacheRead, cacheCreationTokens: USAGE.cacheCreation })
  expect(task.costUsd).toBeCloseTo(sonnetCost(USAGE), 9)
  expect(model.turns().filter((r) => r.conversation?.lastUserText === "e2e: review the release")).toHaveLength(1) // run once, not twice

  worker.kill("SIGTERM")
  expect(await worker.exited).toBe(0)
}, 180_000)
