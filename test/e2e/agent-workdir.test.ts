import { afterAll, expect, setDefaultTimeout, test } from "bun:test"
import { existsSync, readFileSync, realpathSync } from "node:fs"
import { join } from "node:path"
import { cli } from "../support/cli"
import { CLAUDE, claudeEnv, SONNET } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { api, createKey, homeEnv, startDaemonProcess, waitForTaskEvent, type DaemonProcess } from "./daemon-process"

setDefaultTimeout(180_000)

// With no agents.workspace, each agent works in a directory of its own under
// the data dir (not the daemon's current directory), and under the default
// allowlist its file edits are allowed there only: the real claude's Write
// outside it is denied back to the model and no file appears.
// `cca config explain --daemon` shows the workdir and each role's tools.

let tmp: TmpDir | undefined
let model: ModelServer | undefined
let d: DaemonProcess | undefined

afterAll(async () => {
  if (d && d.proc.exitCode === null) (d.proc.kill("SIGTERM"), await d.exited)
  await model?.close()
  await tmp?.[Symbol.asyncDispose]()
})

test("an agent works in its own workdir under the data dir and cannot write outside it", async () => {
  tmp = await tmpdir({ prefix: "cca-e2e-workdir-" })
  const outside = join(tmp.path, "outside.txt")
  model = await startModelServer([
    { match: { lastUserText: "workdir: escape", toolResult: false }, reply: { content: [{ type: "tool_use", name: "Write", input: { file_path: outside, content: "escaped\n" } }] } },
    { match: { lastUserText: "workdir: stay", toolResult: false }, reply: { content: [{ type: "tool_use", name: "Write", input: { file_path: "notes.txt", content: "kept\n" } }] } },
    { match: { toolResult: true }, reply: (c) => ({ content: `tool said: ${c.toolResults[0]?.isError ? "denied" : "ok"}` }) },
  ])
  const env = homeEnv(join(tmp.path, "home"), { ...claudeEnv(model), CCA__AGENTS__CLAUDE_PATH: CLAUDE, CCA__AGENTS__MODEL: SONNET, CCA__AGENTS__MAX_AGENTS: "1" })
  const key = await createKey(env)
  d = await startDaemonProcess(env)
  const call = async (method: string, path: string, body?: unknown) => (await api(d!.ready, key)(method, path, body)).json() as Promise<any>

  const escape = await call("POST", "/api/v1/tasks", { description: "workdir: escape", role: "backend" })
  await waitForTaskEvent(d.ready, key, escape.id, "completed")
  let task = await call("GET", `/api/v1/tasks/${escape.id}`)
  expect(task).toMatchObject({ status: "completed", result: "tool said: denied" })
  expect(existsSync(outside)).toBe(false)

  const agent = (await call("GET", "/api/v1/agents")).items[0]
  const workdirs = join(env.XDG_DATA_HOME!, "cca", "workdirs")
  expect(realpathSync(agent.cwd)).toBe(realpathSync(join(workdirs, agent.id)))

  const stay = await call("POST", "/api/v1/tasks", { description: "workdir: stay", role: "backend" })
  await waitForTaskEvent(d.ready, key, stay.id, "completed")
  task = await call("GET", `/api/v1/tasks/${stay.id}`)
  expect(task).toMatchObject({ status: "completed", result: "tool said: ok" })
  expect(readFileSync(join(agent.cwd, "notes.txt"), "utf8")).toBe("kept\n")

  const explained = await cli(["config", "explain", "--daemon", "--json"], { name: "cca", env })
  const { agents } = explained.json().data
  expect(agents.workdir).toBe(join(workdirs, "<agent-id>"))
  const backend = agents.roles.find((r: { role: string }) => r.role === "backend")
  expect(backend.allowed).toContain(`Edit(/${join(workdirs, "<agent-id>")}/**)`)
  expect(backend.allowed).not.toContain("Write")
  expect(backend.denied).toContain("Bash(curl:*)")
  const text = await cli(["config", "explain", "--daemon"], { name: "cca", env })
  expect(text.stdout).toContain(`agents work in ${join(workdirs, "<agent-id>")}`)
})
