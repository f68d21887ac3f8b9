import { afterAll, expect, setDefaultTimeout, test } from "bun:test"
import { mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { processStart } from "../../src/agent/reaper"
import { CLAUDE, claudeEnv, SONNET } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { api, createKey, homeEnv, startDaemonProcess, waitForTaskEvent, type DaemonProcess } from "./daemon-process"

setDefaultTimeout(180_000)

// A restarted daemon kills the agents its killed predecessor left running,
// from the list in its run dir. The first daemon runs with a PATH that has no
// setpriv, so its agents get no parent-death signal and really are orphaned
// by the SIGKILL (as on a machine without util-linux); the second one (normal
// PATH) reaps them before it is ready. A listed pid that now belongs to
// another process (a different start time) is left alone.

let tmp: TmpDir | undefined
let model: ModelServer | undefined
const daemons: DaemonProcess[] = []
const orphans: number[] = []

afterAll(async () => {
  for (const d of daemons) if (d.proc.exitCode === null && d.proc.signalCode === null) (d.proc.kill("SIGTERM"), await d.exited)
  for (const pid of orphans) if (processStart(pid) !== undefined) process.kill(pid, "SIGKILL")
  await model?.close()
  await tmp?.[Symbol.asyncDispose]()
})

test("a daemon started after a SIGKILLed one kills the agents its run dir lists, and only those", async () => {
  model = await startModelServer([{ match: { lastUserText: "reap: a long turn" }, reply: { content: "never seen", delayMs: 120_000 } }])
  tmp = await tmpdir({ prefix: "cca-e2e-reap-" })
  const noSetpriv = join(tmp.path, "bin")
  mkdirSync(noSetpriv)
  const env = homeEnv(join(tmp.path, "home"), { ...claudeEnv(model), CCA__AGENTS__CLAUDE_PATH: CLAUDE, CCA__AGENTS__MODEL: SONNET, CCA__AGENTS__WORKSPACE: tmp.path, CCA__AGENTS__MAX_AGENTS: "1" })
  const key = await createKey(env)
  const first = await startDaemonProcess({ ...env, PATH: noSetpriv })
  daemons.push(first)
  const { id } = (await (await api(first.ready, key)("POST", "/api/v1/tasks", { description: "reap: a long turn", role: "backend" })).json()) as { id: string }
  await waitForTaskEvent(first.ready, key, id, "accepted")
  await model.waitFor((r) => r.conversation?.lastUserText === "reap: a long turn")

  const listDir = join(env.XDG_DATA_HOME!, "cca", "run", "agents")
  const listed = readdirSync(listDir).map((f) => Number.parseInt(f, 10))
  expect(listed).toHaveLength(1)
  const agentPid = listed[0]!
  orphans.push(agentPid)
  expect(processStart(agentPid)).toBeDefined()

  // a stale entry whose pid now belongs to someone else (this test process, another start time)
  writeFileSync(join(listDir, `${process.pid}.json`), JSON.stringify({ pid: process.pid, start: "1", daemonPid: 1 }))

  first.proc.kill("SIGKILL")
  expect(await first.exited).toBe(137)
  expect(processStart(agentPid)).toBeDefined() // orphaned: nothing else would stop it

  const second = await startDaemonProcess(env)
  daemons.push(second)
  expect(processStart(agentPid)).toBeUndefined() // killed before the daemon was ready
  expect(readdirSync(listDir).filter((f) => f === `${agentPid}.json` || f === `${process.pid}.json`)).toEqual([])
  expect(await Bun.file(second.ready.log).text()).toContain(`killed 1 agent process(es) a previous daemon left running: pid ${agentPid}`)
})
