import { afterAll, expect, setDefaultTimeout, test } from "bun:test"
import { mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { processStart } from "../../src/agent/reaper"
import { binary } from "../support/cli"
import { CLAUDE, claudeEnv, SONNET } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { createKey, homeEnv, startDaemonProcess, type DaemonProcess } from "./daemon-process"
import { stopProcesses } from "../support/ports"

setDefaultTimeout(180_000)

// A `cca worker` started after a SIGKILLed one (same HOME) kills the agents
// its predecessor left running, and only those: the first worker runs with a
// PATH without setpriv, so its agent gets no parent-death signal and really is
// orphaned. An entry whose owner still runs (another worker on this host:
// here, this test process owning a `sleep`) is left alone.

type Worker = Bun.Subprocess<"ignore", "pipe", "pipe">

let tmp: TmpDir | undefined
let model: ModelServer | undefined
let d: DaemonProcess | undefined
const workers: Worker[] = []
const strays: number[] = []

afterAll(async () => {
  await stopProcesses([...workers, d?.proc])
  for (const pid of strays) if (processStart(pid) !== undefined) process.kill(pid, "SIGKILL")
  await model?.close()
  await tmp?.[Symbol.asyncDispose]()
})

async function startWorker(args: string[], env: Record<string, string | undefined>): Promise<{ proc: Worker; stderr: () => string }> {
  const full: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) full[k] = v
  const proc = Bun.spawn([binary("cca"), "worker", ...args], { env: full, stdin: "ignore", stdout: "pipe", stderr: "pipe" })
  workers.push(proc)
  let stderr = ""
  void (async () => {
    for await (const chunk of proc.stderr) stderr += new TextDecoder().decode(chunk)
  })()
  const reader = proc.stdout.getReader()
  let out = ""
  while (!out.includes("\n")) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`cca worker exited before it was ready (${await proc.exited}): ${stderr}`)
    out += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  expect(JSON.parse(out.slice(0, out.indexOf("\n")))).toMatchObject({ ready: true })
  return { proc, stderr: () => stderr }
}

test("a worker started after a SIGKILLed one kills the agents that one left running, not a live worker's", async () => {
  model = await startModelServer([])
  tmp = await tmpdir({ prefix: "cca-e2e-worker-reap-" })
  const daemonEnv = homeEnv(join(tmp.path, "daemon"), { ...claudeEnv(model), CCA__AGENTS__CLAUDE_PATH: CLAUDE })
  const key = await createKey(daemonEnv)
  d = await startDaemonProcess(daemonEnv)
  const workerEnv = homeEnv(join(tmp.path, "worker"), { ...claudeEnv(model), CCA_API_KEY: key, CCA__AGENTS__CLAUDE_PATH: CLAUDE, CCA__AGENTS__MODEL: SONNET, CCA__AGENTS__WORKSPACE: tmp.path })
  const noSetpriv = join(tmp.path, "bin")
  mkdirSync(noSetpriv)

  const first = await startWorker(["--daemon", d.ready.acp, "--role", "backend", "--id-prefix", "w1"], { ...workerEnv, PATH: noSetpriv })
  const listDir = join(workerEnv.XDG_DATA_HOME!, "cca", "run", "worker-agents")
  const listed = readdirSync(listDir).map((f) => Number.parseInt(f, 10))
  expect(listed).toHaveLength(1)
  const agentPid = listed[0]!
  strays.push(agentPid)
  expect(processStart(agentPid)).toBeDefined()

  // Another live worker's agent (owner: this test process) shares the dir.
  const other = Bun.spawn(["sleep", "300"])
  strays.push(other.pid)
  writeFileSync(join(listDir, `${other.pid}.json`), JSON.stringify({ pid: other.pid, start: processStart(other.pid), ownerPid: process.pid, ownerStart: processStart(process.pid) }))

  first.proc.kill("SIGKILL")
  expect(await first.proc.exited).toBe(137)
  expect(processStart(agentPid)).toBeDefined() // orphaned: nothing else would stop it

  const second = await startWorker(["--daemon", d.ready.acp, "--role", "backend", "--id-prefix", "w2"], workerEnv)
  expect(processStart(agentPid)).toBeUndefined() // killed before the worker was ready
  expect(processStart(other.pid)).toBeDefined()
  const now = readdirSync(listDir)
  expect(now).not.toContain(`${agentPid}.json`)
  expect(now).toContain(`${other.pid}.json`)
  expect(second.stderr()).toContain(`killed 1 agent process(es) a previous worker left running: pid ${agentPid}`)
  second.proc.kill("SIGTERM")
  expect(await second.proc.exited).toBe(0)
  expect(readdirSync(listDir)).toEqual([`${other.pid}.json`]) // a worker that stops cleanly leaves no entry of its own
})
