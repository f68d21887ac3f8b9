import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test"
import { readlinkSync } from "node:fs"
import { cli } from "../support/cli"
import { CLAUDE, claudeEnv, SONNET } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import { runInPty } from "../support/pty"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { createKey, homeEnv, startDaemonProcess, type DaemonProcess } from "./daemon-process"

setDefaultTimeout(120_000)

// `cca agents ...` (the compiled binary) against the compiled daemon, whose
// pool runs the real claude against a scripted model: spawn, list, send,
// logs, stop, and attach in a real pseudo-terminal.

let tmp: TmpDir
let model: ModelServer
let d: DaemonProcess
let env: Record<string, string>

beforeAll(async () => {
  model = await startModelServer([
    { match: { system: "# Role: backend", lastUserText: "e2e hello" }, reply: { content: "hello from a backend agent", usage: { input: 111, output: 7 } } },
    { match: { lastUserText: "e2e paint" }, reply: { content: "painted the picture" } },
  ])
  tmp = await tmpdir({ prefix: "cca-e2e-agents-" })
  env = homeEnv(tmp.path, { ...claudeEnv(model), CCA__AGENTS__CLAUDE_PATH: CLAUDE, CCA__AGENTS__MODEL: SONNET, CCA__AGENTS__WORKSPACE: tmp.path, CCA__AGENTS__MAX_AGENTS: "2" })
  env.CCA_API_KEY = await createKey(env)
  d = await startDaemonProcess(env)
}, 120_000)

afterAll(async () => {
  if (d && d.proc.exitCode === null) {
    d.proc.kill("SIGTERM")
    if ((await Promise.race([d.exited, Bun.sleep(20_000).then(() => null)])) === null) d.proc.kill("SIGKILL")
  }
  await model?.close()
  await tmp?.[Symbol.asyncDispose]()
})

const cca = (args: string[], timeoutMs = 90_000) => cli(args, { name: "cca", env, timeoutMs })

test("spawn, list, send, logs and stop from the command line; max_agents is exit 2 with a hint", async () => {
  const spawned = await cca(["agents", "spawn", "--role", "backend", "--json"])
  expect(spawned.code).toBe(0)
  const agent = spawned.json().data
  expect(agent).toMatchObject({ role: "backend", kind: "local", driver: "stream", status: "idle" })

  const human = await cca(["agents", "spawn", "--role", "qa", "--driver", "pty", "--id", "pty-e2e"])
  expect(human.code).toBe(0)
  expect(human.stdout).toContain("pty-e2e")
  expect(human.stdout).toContain("attach: cca agents attach pty-e2e")

  const full = await cca(["agents", "spawn", "--role", "security"])
  expect(full.code).toBe(2)
  expect(full.stderr).toContain("agents.max_agents = 2")
  expect(full.stderr).toContain("Try:")

  const list = await cca(["agents", "list", "--json"])
  expect(list.json().data.items.map((a: { id: string }) => a.id).sort()).toEqual([agent.id, "pty-e2e"].sort())
  const table = await cca(["agents", "list"])
  expect(table.stdout).toMatch(new RegExp(`${agent.id}\\s+backend\\s+stream\\s+idle`))

  const sent = await cca(["agents", "send", agent.id, "e2e hello"])
  expect(sent.code).toBe(0)
  expect(sent.stdout.trim()).toBe("hello from a backend agent")
  const sentJson = await cca(["agents", "send", agent.id, "e2e hello", "--json"])
  expect(sentJson.json().data.result).toMatchObject({ ok: true, usage: { inputTokens: 111, outputTokens: 7 } })

  const logs = await cca(["agents", "logs", agent.id])
  expect(logs.code).toBe(0)
  expect(logs.stdout).toContain("prompt")
  expect(logs.stdout).toContain("hello from a backend agent")
  expect(logs.stdout).toContain("111 in / 7 out tokens")
  expect((await cca(["agents", "logs", agent.id, "--limit", "2", "--json"])).json().data.items).toHaveLength(2)

  const stopped = await cca(["agents", "stop", agent.id, "--json"])
  expect(stopped.json().data.status).toBe("stopped")
  const missing = await cca(["agents", "stop", "no-such-agent"])
  expect(missing.code).toBe(1)
  expect(missing.stderr).toContain("no agent no-such-agent")
  const noTerminal = await cca(["agents", "spawn", "--role", "backend", "--json"])
  const streamId = noTerminal.json().data.id
  const refused = await cca(["agents", "attach", streamId])
  expect(refused.code).toBe(2)
  expect(refused.stderr).toContain("--driver pty")
  await cca(["agents", "stop", streamId])
})

test("cca agents attach connects a terminal to a pty agent: its screen, typing, resize, Ctrl-] detaches and the agent runs on", async () => {
  await using run = runInPty(["agents", "attach", "pty-e2e"], { env: { ...env, SCC_PROG: "cca" }, cols: 100, rows: 30 })
  await run.waitFor(/attached to pty-e2e/)
  await run.waitFor(/Claude Code/) // the replay of the agent's screen
  const shown = async () => (await cca(["agents", "list", "--json"])).json().data.items.find((a: { id: string }) => a.id === "pty-e2e")
  expect((await shown()).status).toBe("idle")
  run.terminal.write("typed_through_attach")
  await run.waitFor(/typed_through_attach/)
  run.terminal.resize(90, 28) // the agent's terminal follows this one's size
  run.terminal.write("_after_resize")
  await run.waitFor(/_after_resize/)
  const tty = readlinkSync(`/proc/${(await shown()).pid}/fd/0`)
  expect(Bun.spawnSync(["stty", "-F", tty, "size"]).stdout.toString().trim()).toBe("28 90")
  run.terminal.write("\x15") // clear the input box
  // A prompt sent meanwhile shows up live on the attached terminal.
  const sent = await cca(["agents", "send", "pty-e2e", "e2e paint"])
  expect(sent.stdout.trim()).toBe("painted the picture")
  await run.waitFor(/painted/)
  run.terminal.write("\x1d") // Ctrl-]
  expect(await run.proc.exited).toBe(0)
  await run.waitFor(/detached; the agent keeps running/)
  expect((await shown()).status).toBe("idle")
})
