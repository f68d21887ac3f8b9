import { afterAll, beforeAll, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { binary, cli } from "../support/cli"
import { CLAUDE, claudeEnv, SONNET, sonnetCost } from "../support/claude"
import { startModelServer, type ModelServer, type RecordedRequest } from "../support/model-server"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { api, createKey, homeEnv, startDaemonProcess, waitForTaskEvent, type DaemonProcess } from "./daemon-process"

// Tasks on genuine Claude Code agents, end to end: the compiled daemon
// (`cca daemon --port 0 --acp-port 0`, its own HOME) spawns real `claude`
// processes (node_modules/.bin/claude) through its pool; only the model is
// scripted (test/support/model-server.ts). Everything is driven over HTTP, as
// a user would: spawn agents, create tasks, follow their events, cancel.

let tmp: TmpDir
let model: ModelServer
let d: DaemonProcess
let worker: Bun.Subprocess<"ignore", "pipe", "pipe"> | undefined
let key: string
const ids: Record<string, string> = {}

const usage = { input: 1234, output: 56, cacheCreation: 789, cacheRead: 4321 }
const childUsage = { input: 300, output: 20, cacheCreation: 0, cacheRead: 1000 }
const workerUsage = { input: 777, output: 33, cacheCreation: 111, cacheRead: 2222 }
const backend = "# Role: backend"
const coordinator = "# Role: coordinator"
const delegate = "mcp__cca__cca_delegate"

beforeAll(async () => {
  model = await startModelServer([
    { match: { system: backend, lastUserText: "e2e: add the orders endpoint" }, reply: { content: "orders endpoint added", usage } },
    // coordination: the coordinator delegates through the real MCP tool, the backend does the part, the coordinator sums up
    { match: { system: coordinator, lastUserText: "e2e: ship the signup feature", toolResult: false }, reply: { content: [{ type: "tool_use", name: "mcp__cca__cca_report_progress", input: { message: "planned: one backend part", percent: 10 } }] } },
    { match: { system: coordinator, toolResult: { name: "mcp__cca__cca_report_progress" } }, reply: { content: [{ type: "tool_use", name: delegate, input: { task: "e2e: build the signup API", role: "backend", wait: true } }] } },
    { match: { system: backend, lastUserText: "e2e: build the signup API" }, reply: { content: "signup API built", usage: childUsage } },
    { match: { system: coordinator, toolResult: { name: delegate } }, reply: (c) => ({ content: `signup shipped; backend said: ${c.toolResults[0]!.text.includes("signup API built") ? "signup API built" : "nothing"}` }) },
    // a crash: the first attempt hangs until its agent is killed, the retry answers
    { name: "hang once", times: 1, match: { system: backend, lastUserText: "e2e: long migration" }, reply: { content: "never", delayMs: 120_000 } },
    { match: { system: backend, lastUserText: "e2e: long migration" }, reply: { content: "migration done" } },
    // a cancel: the turn would take minutes
    { match: { system: "# Role: qa", lastUserText: "e2e: endless report" }, reply: { content: "never", delayMs: 120_000 } },
    { match: { system: "# Role: qa", lastUserText: "e2e: quick check" }, reply: { content: "all green" } },
    // the remote worker's agent
    { match: { system: "# Role: security", lastUserText: "e2e: audit the login flow" }, reply: { content: "no findings", usage: workerUsage } },
  ])
  tmp = await tmpdir({ prefix: "cca-e2e-orch-" })
  const env = homeEnv(tmp.path, {
    ...claudeEnv(model),
    CCA__AGENTS__CLAUDE_PATH: CLAUDE,
    CCA__AGENTS__MODEL: SONNET,
    CCA__AGENTS__WORKSPACE: tmp.path,
    CCA__DAEMON__SHUTDOWN_GRACE_S: "1",
  })
  key = await createKey(env)
  d = await startDaemonProcess(env)
}, 120_000)

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    worker.kill("SIGTERM")
    if ((await Promise.race([worker.exited, Bun.sleep(20_000).then(() => null)])) === null) worker.kill("SIGKILL")
  }
  if (d && d.proc.exitCode === null) {
    d.proc.kill("SIGTERM")
    const code = await Promise.race([d.exited, Bun.sleep(20_000).then(() => null)])
    if (code === null) d.proc.kill("SIGKILL")
  }
  await model?.close()
  await tmp?.[Symbol.asyncDispose]()
})

async function call<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await api(d.ready, key)(method, path, body)
  return { status: res.status, body: (await res.json()) as T }
}

async function spawn(role: string): Promise<{ id: string; pid: number }> {
  const r = await call("POST", "/api/v1/agents", { role })
  if (r.status !== 201) throw new Error(`spawn ${role}: ${r.status} ${JSON.stringify(r.body)}\n${d.stderr()}`)
  return r.body
}

async function create(body: Record<string, unknown>): Promise<string> {
  const r = await call("POST", "/api/v1/tasks", body)
  if (r.status !== 202) throw new Error(`create: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body.id
}

const task = async (id: string) => (await call("GET", `/api/v1/tasks/${id}`)).body
const events = async (id: string) => (await call<{ items: { type: string; data: Record<string, any> }[] }>("GET", `/api/v1/activity?limit=1000`)).body.items.filter((e: any) => e.taskId === id).reverse()
const until = (id: string, type: string) => waitForTaskEvent(d.ready, key, id, type)
const asked = (text: string) => (r: RecordedRequest) => r.conversation?.lastUserText === text && r.conversation.side === false

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean)
}

test("agents of three roles; a task routed by its content runs on the backend agent with the model's result, tokens (cache too) and cost", async () => {
  const [fe, be, qa] = await Promise.all([spawn("frontend"), spawn("backend"), spawn("qa")])
  Object.assign(ids, { frontend: fe.id, backend: be.id, qa: qa.id })
  const listed = (await call("GET", "/api/v1/agents")).body.items.filter((a: any) => a.kind === "local")
  expect(listed.map((a: any) => [a.role, a.status]).sort()).toEqual([["backend", "idle"], ["frontend", "idle"], ["qa", "idle"]])

  // The spawned command line carries the allowlist, never --dangerously-skip-permissions.
  for (const a of [fe, be, qa]) {
    const argv = cmdline(a.pid)
    expect(argv.join(" ")).toContain("--permission-mode dontAsk")
    expect(argv).toContain("--allowedTools")
    expect(argv).toContain("--disallowedTools")
    expect(argv.slice(argv.indexOf("--allowedTools"))).toContain("mcp__cca")
    expect(argv).not.toContain("--dangerously-skip-permissions")
  }

  const id = await create({ description: "e2e: add the orders endpoint" })
  await until(id, "completed")
  const t = await task(id)
  expect(t).toMatchObject({
    status: "completed",
    role: "backend",
    agentId: be.id,
    result: "orders endpoint added",
    attempts: 1,
    usage: { inputTokens: usage.input, outputTokens: usage.output, cacheCreationTokens: usage.cacheCreation, cacheReadTokens: usage.cacheRead },
    metadata: { routing: { role: "backend", reason: "content" } },
  })
  expect(t.costUsd).toBeCloseTo(sonnetCost(usage), 9)
  expect(t.durationMs).toBeGreaterThan(0)
  expect(t.sessionId).toMatch(/^[0-9a-f-]{36}$/)
  // the model was asked exactly once, by that agent's session
  const turns = model.requests.filter(asked("e2e: add the orders endpoint"))
  expect(turns).toHaveLength(1)
  expect(turns[0]!.headers["x-claude-code-session-id"]).toBe(t.sessionId)
  expect((await events(id)).map((e) => e.type)).toEqual(["created", "claimed", "accepted", "completed"])
}, 120_000)

test("a coordinated task: the coordinator reports progress and calls cca_delegate through the real MCP client, the child runs on the backend agent, the aggregate holds both", async () => {
  const co = await spawn("coordinator")
  ids.coordinator = co.id
  // through the CLI, as a user would: `cca task create ... --coordinate`
  const created = await cli(["task", "create", "e2e: ship the signup feature", "--coordinate", "--json"], { name: "cca", env: { CCA_DAEMON_URL: d.ready.http, CCA_API_KEY: key } })
  expect(created.code, created.stderr).toBe(0)
  const id = created.json().data.id as string
  expect(created.json().data).toMatchObject({ role: "coordinator", coordinate: true })
  await until(id, "completed")
  const parent = await task(id)
  expect(parent).toMatchObject({ status: "completed", role: "coordinator", agentId: co.id, result: "signup shipped; backend said: signup API built" })
  const children = (await call("GET", `/api/v1/tasks?parentId=${id}`)).body.items
  expect(children).toHaveLength(1)
  const child = children[0]
  expect(child).toMatchObject({ status: "completed", role: "backend", agentId: ids.backend, result: "signup API built", parentId: id, rootId: id, depth: 1, source: "delegation", metadata: { delegatedBy: co.id } })
  expect(child.usage).toEqual({ inputTokens: 300, outputTokens: 20, cacheCreationTokens: 0, cacheReadTokens: 1000 })
  expect(parent.metadata.aggregate).toMatchObject({
    answer: "signup shipped; backend said: signup API built",
    children: [{ id: child.id, role: "backend", agentId: ids.backend, status: "completed", result: "signup API built" }],
    pending: 0,
    total: { tasks: 2 },
  })
  expect(parent.metadata.aggregate.total.usage.inputTokens).toBe(parent.usage.inputTokens + 300)
  expect(parent.metadata.aggregate.total.costUsd).toBeCloseTo(parent.costUsd + child.costUsd, 9)
  // what the coordinator's model saw: the tool call answered with the child's result, no error
  const followUp = model.requests.find((r) => r.conversation?.toolResults.some((x) => x.name === delegate))
  const result = followUp!.conversation!.toolResults.find((x) => x.name === delegate)!
  expect(result.isError).toBe(false)
  expect(result.text).toContain(child.id)
  const trail = await events(id)
  expect(trail.map((e) => e.type)).toEqual(["created", "claimed", "accepted", "progress", "child", "completed"])
  // progress reported by the coordinator's own MCP tool, counted as its agent's
  expect(trail[3]!.data).toMatchObject({ message: "planned: one backend part", progress: 0.1 })
}, 120_000)

test("killing an agent's process mid-task requeues the task, and it completes on another agent", async () => {
  const second = await spawn("backend")
  const id = await create({ description: "e2e: long migration", role: "backend" })
  await model.waitFor(asked("e2e: long migration"), 60_000)
  const running = await task(id)
  expect(running.status).toBe("running")
  const victim = running.agentId as string
  const pid = (await call("GET", `/api/v1/agents/${victim}`)).body.pid as number
  process.kill(pid, "SIGKILL")
  await until(id, "completed")
  const t = await task(id)
  expect(t).toMatchObject({ status: "completed", result: "migration done", attempts: 2 })
  expect(t.agentId).not.toBe(victim)
  expect([ids.backend, second.id]).toContain(t.agentId)
  const trail = await events(id)
  expect(trail.map((e) => e.type)).toEqual(["created", "claimed", "accepted", "requeued", "claimed", "accepted", "completed"])
  expect(trail[3]!.data.reason).toMatchObject({ code: "agent_crashed" })
  expect(trail[3]!.data.previousAgentId).toBe(victim)
}, 120_000)

test("cancel interrupts a long task and the agent is free for the next one", async () => {
  const id = await create({ description: "e2e: endless report", role: "qa" })
  const request = await model.waitFor(asked("e2e: endless report"), 60_000)
  const cancelled = await call("POST", `/api/v1/tasks/${id}/cancel`, { reason: "not needed" })
  expect(cancelled.status).toBe(200)
  expect(cancelled.body).toMatchObject({ status: "cancelled", agentId: ids.qa })
  // the agent's turn was interrupted: Claude Code hung up on the model
  await model.waitFor((r) => r.seq === request.seq && r.aborted === true, 30_000)
  const next = await create({ description: "e2e: quick check", role: "qa" })
  await until(next, "completed")
  expect(await task(next)).toMatchObject({ status: "completed", agentId: ids.qa, result: "all green" })
  expect(await task(id)).toMatchObject({ status: "cancelled", result: null, error: { code: "cancelled", message: "not needed" } })
}, 120_000)

test("a remote worker process (`cca worker`, the compiled binary) takes a task routed to its role", async () => {
  // Another machine, as far as the worker knows: its own HOME, config and agents; only the daemon's ACP URL and a key.
  const home = homeEnv(join(tmp.path, "worker-home"), {
    ...claudeEnv(model),
    CCA_API_KEY: key,
    CCA__AGENTS__CLAUDE_PATH: CLAUDE,
    CCA__AGENTS__MODEL: SONNET,
    CCA__AGENTS__WORKSPACE: tmp.path,
  })
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, ...home })) if (v !== undefined) env[k] = v
  worker = Bun.spawn([binary("cca"), "worker", "--daemon", d.ready.acp, "--role", "security", "--id-prefix", "remote-sec"], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" })
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
  const ready = JSON.parse(out.slice(0, out.indexOf("\n")))
  expect(ready).toMatchObject({ ready: true, role: "security", agents: ["remote-sec-1"] })
  const listed = (await call("GET", "/api/v1/agents?role=security")).body.items
  expect(listed).toMatchObject([{ id: "remote-sec-1", kind: "remote", status: "idle" }])

  const id = await create({ description: "e2e: audit the login flow", role: "security" })
  await until(id, "completed")
  const t = await task(id)
  expect(t).toMatchObject({
    status: "completed",
    agentId: "remote-sec-1",
    result: "no findings",
    usage: { inputTokens: workerUsage.input, outputTokens: workerUsage.output, cacheCreationTokens: workerUsage.cacheCreation, cacheReadTokens: workerUsage.cacheRead },
  })
  expect(t.costUsd).toBeCloseTo(sonnetCost(workerUsage), 9)
  expect(t.sessionId).toMatch(/^[0-9a-f-]{36}$/)
  const trail = await events(id)
  expect(trail.map((e) => e.type)).toEqual(["created", "claimed", "accepted", "completed"])
  expect(trail[2]!.data).toMatchObject({ agentId: "remote-sec-1", executor: "remote" })
  // the daemon started no security agent of its own for it
  expect((await call("GET", "/api/v1/agents")).body.items.filter((a: any) => a.role === "security").map((a: any) => a.kind)).toEqual(["remote"])
}, 120_000)
