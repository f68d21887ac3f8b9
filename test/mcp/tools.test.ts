import { afterAll, beforeAll, expect, test } from "bun:test"
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv"
import type { AcpClient } from "../../src/acp/client"
import type { BroadcastNotice, TaskAssignParams } from "../../src/acp/protocol"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { deferred } from "../acp/support"
import { tmpdir } from "../support/tmpdir"
import { daemonEnv, homeEnv, startDaemon, startMcp, text, type Daemon, type McpSession } from "./support"

// The compiled `cca mcp` against the compiled daemon, through the SDK's
// client over stdio: the tool list and its schemas, every tool's happy path,
// and bad input answered as a tool error by a server that keeps serving.

const TOOLS = [
  "cca_task", "cca_status", "cca_agents", "cca_activity", "cca_memory", "cca_broadcast", "cca_acp_status", "cca_workloads",
  "cca_rl_status", "cca_rl_train", "cca_rl_algorithm", "cca_tokens_analyze", "cca_tokens_compress", "cca_tokens_metrics",
  "cca_tokens_recommendations", "cca_index_codebase", "cca_search_code",
]

let d: Daemon
let mcp: McpSession
let worker: AcpClient
const broadcast = deferred<BroadcastNotice>()

beforeAll(async () => {
  d = await startDaemon()
  mcp = await startMcp([], daemonEnv(d))
  // A worker of role mcp-work: accepts, reports progress, then completes with an output naming the prompt.
  worker = await d.agent("mcp-worker", "mcp-work", {
    taskAssign: (t: TaskAssignParams) => {
      setTimeout(async () => {
        worker.progress({ taskId: t.taskId, percent: 50, message: "half way" })
        await worker.result({ taskId: t.taskId, status: "completed", output: `did: ${t.prompt}`, tokens: { input: 10, output: 5 }, durationMs: 20 })
      }, 0)
      return { accepted: true }
    },
    broadcast: (n) => broadcast.resolve(n),
  })
}, 90_000)

afterAll(async () => {
  await mcp?.close()
  await d?.[Symbol.asyncDispose]()
})

test("tools/list: the 17 tools, each with a one-line description and a valid JSON schema", async () => {
  const { tools } = await mcp.client.listTools()
  expect(tools.map((t) => t.name).sort()).toEqual([...TOOLS].sort())
  const ajv = new AjvJsonSchemaValidator()
  for (const t of tools) {
    expect(t.description, t.name).toMatch(/^[^\n]{20,160}$/)
    expect(t.inputSchema.type, t.name).toBe("object")
    expect(() => ajv.getValidator(t.inputSchema), t.name).not.toThrow()
    if (t.outputSchema) expect(() => ajv.getValidator(t.outputSchema!), t.name).not.toThrow()
  }
  const byName = Object.fromEntries(tools.map((t) => [t.name, t]))
  expect(byName.cca_task!.inputSchema.required).toEqual(["description"])
  expect(Object.keys(byName.cca_task!.inputSchema.properties!).sort()).toEqual(["coordinate", "description", "priority", "role", "wait"])
  expect(byName.cca_tokens_compress!.inputSchema.required).toEqual(["content"])
  expect(Object.keys(byName.cca_tokens_compress!.inputSchema.properties!).sort()).toEqual(["content", "strategies", "target_reduction"])
  expect(Object.keys(byName.cca_index_codebase!.inputSchema.properties!).sort()).toEqual(["exclude", "extensions", "path"])
  expect(Object.keys(byName.cca_search_code!.inputSchema.properties!).sort()).toEqual(["kind", "language", "limit", "path", "query"])
  expect((byName.cca_rl_algorithm!.inputSchema.properties!.algorithm as { enum: string[] }).enum).toEqual(["heuristic", "linucb", "q_learning", "dqn", "ppo"])
  expect(byName.cca_status!.annotations?.readOnlyHint).toBe(true)
  expect(byName.cca_task!.annotations?.readOnlyHint).toBe(false)
  // The validator a client builds from a schema accepts good input and refuses bad.
  const check = ajv.getValidator<Record<string, unknown>>(byName.cca_task!.inputSchema)
  expect(check({ description: "x", wait: true }).valid).toBe(true)
  expect(check({ wait: true }).valid).toBe(false)
})

test("cca_task queues a task with what it was given, and returns its id at once", async () => {
  const r = await mcp.call("cca_task", { description: "refactor the parser", role: "mcp-nobody", priority: 7, coordinate: true })
  expect(r.isError).toBeFalsy()
  const task = r.structuredContent as { id: string; status: string }
  expect(task.status).toBe("pending")
  expect(text(r)).toContain(`Task ${task.id} is queued for role mcp-nobody (priority 7)`)
  const stored = (await d.api("GET", `/api/v1/tasks/${task.id}`)).body
  expect(stored).toMatchObject({ description: "refactor the parser", role: "mcp-nobody", priority: 7, coordinate: true, status: "pending", source: "api" })
  await d.api("POST", `/api/v1/tasks/${task.id}/cancel`, {})
})

test("cca_task with wait runs on an agent and returns its result, with progress notifications on the way", async () => {
  const progress: string[] = []
  const r = await mcp.call("cca_task", { description: "write the changelog", role: "mcp-work", wait: true }, { onprogress: (p) => progress.push(p.message ?? "") })
  expect(r.isError).toBeFalsy()
  const task = r.structuredContent as { id: string; status: string; agentId: string; result: string }
  expect(task).toMatchObject({ status: "completed", agentId: "mcp-worker", result: "did: write the changelog" })
  expect(text(r)).toMatch(new RegExp(`^Task ${task.id} completed by agent mcp-worker in \\d+\\.\\d s; its result follows\n\ndid: write the changelog$`))
  expect((r.structuredContent as { summary: string }).summary).toStartWith(`Task ${task.id} completed by agent mcp-worker`)
  expect(progress.some((m) => m.includes("progress: 50% half way"))).toBe(true)
  expect(progress.at(-1)).toContain("completed")
  expect((await d.api("GET", `/api/v1/tasks/${task.id}`)).body.status).toBe("completed")
})

test("cca_status: one task by id; without one, the daemon with recent tasks", async () => {
  const created = (await d.api("POST", "/api/v1/tasks", { description: "status probe", role: "mcp-nobody" })).body.id as string
  const one = await mcp.call("cca_status", { task_id: created })
  expect(one.isError).toBeFalsy()
  expect(text(one)).toContain(`Task ${created} is queued`)
  expect((one.structuredContent as { task: { id: string } }).task.id).toBe(created)
  const all = await mcp.call("cca_status")
  expect(text(all)).toMatch(/^cca daemon \S+ 0\.1\.0, up \d+ s at http:\/\/127\.0\.0\.1:\d+/)
  expect(text(all)).toContain(`${created}  pending`)
  expect((all.structuredContent as { status: { tasks: Record<string, number> } }).status.tasks.pending).toBeGreaterThanOrEqual(1)
  const missing = await mcp.call("cca_status", { task_id: "no-such-task" })
  expect(missing.isError).toBe(true)
  expect(text(missing)).toContain("no task no-such-task")
  await d.api("POST", `/api/v1/tasks/${created}/cancel`, {})
})

test("cca_agents, cca_workloads and cca_acp_status show the connected worker", async () => {
  const agents = await mcp.call("cca_agents")
  expect(text(agents)).toMatch(/mcp-worker {2}role mcp-work {2}(idle|busy)/)
  expect((agents.structuredContent as { agents: { id: string }[] }).agents.map((a) => a.id)).toContain("mcp-worker")
  const none = await mcp.call("cca_agents", { role: "mcp-absent" })
  expect(text(none)).toBe("no agents of role mcp-absent are connected; queued tasks wait until one connects")
  const w = await mcp.call("cca_workloads")
  expect(text(w)).toMatch(/role mcp-work: 1 agent\(s\)/)
  const acp = await mcp.call("cca_acp_status")
  expect((acp.structuredContent as { connections: number }).connections).toBeGreaterThanOrEqual(1)
  expect(text(acp)).toMatch(/^ACP: \d+ connection\(s\)/)
})

test("cca_activity lists recent task events", async () => {
  const r = await mcp.call("cca_activity", { limit: 50 })
  const events = (r.structuredContent as { events: { type: string }[] }).events
  expect(events.length).toBeGreaterThan(0)
  expect(events.map((e) => e.type)).toContain("completed")
  expect(text(r)).toMatch(/\d\d:\d\d:\d\d {2}\S+ {2}completed/)
})

test("cca_broadcast reaches the connected agents", async () => {
  const r = await mcp.call("cca_broadcast", { message: "freeze merges", role: "mcp-work" })
  expect(r.structuredContent).toEqual({ summary: "broadcast delivered to 1 agent(s) of role mcp-work (connected workers hear it at once, the daemon's own agents before their next prompt)", recipients: 1 })
  expect(text(r)).toBe("broadcast delivered to 1 agent(s) of role mcp-work (connected workers hear it at once, the daemon's own agents before their next prompt)")
  expect(await broadcast.promise).toMatchObject({ from: "api", message: "freeze merges", role: "mcp-work" })
})

test("the token tools answer for real; an unknown strategy is an error naming the field", async () => {
  const code = "```ts\n// a comment\nexport const x = 1\n```\n"
  const a = await mcp.call("cca_tokens_analyze", { content: code })
  expect(a.isError).toBeFalsy()
  expect(text(a)).toMatch(/^~\d+ tokens \(code \d+/)
  const c = await mcp.call("cca_tokens_compress", { content: code, strategies: ["code_comments"] })
  expect(c.isError).toBeFalsy()
  expect(c.structuredContent).toMatchObject({ content: "```ts\nexport const x = 1\n```\n", strategies: [{ strategy: "code_comments", lossy: false }] })
  const m = await mcp.call("cca_tokens_metrics", {})
  expect(text(m)).toMatch(/^\d+ tasks in 30 days: /)
  const r = await mcp.call("cca_tokens_recommendations", {})
  expect(r.isError).toBeFalsy()
  const bad = await mcp.call("cca_tokens_compress", { content: "hello", strategies: ["dedupe"] })
  expect(bad.isError).toBe(true)
  expect(text(bad)).toContain("body.strategies.0: unknown strategy")
})

test("cca_search_code answers for real; cca_index_codebase outside [indexing] roots is refused with the reason", async () => {
  const r = await mcp.call("cca_search_code", { query: "parse args", language: "typescript", limit: 5 })
  expect(r.isError).toBeFalsy()
  expect(text(r)).toContain("results")
  const refused = await mcp.call("cca_index_codebase", { path: "/" })
  expect(refused.isError).toBe(true)
  expect(text(refused)).toContain("outside the allowed roots")
})

test("cca_memory answers for real: patterns by meaning from the daemon's memory", async () => {
  const r = await mcp.call("cca_memory", { query: "retry with backoff", limit: 3 })
  expect(r.isError).toBeFalsy()
  expect(r.structuredContent).toMatchObject({ search_type: "hybrid" })
  expect(Array.isArray((r.structuredContent as { patterns: unknown[] }).patterns)).toBe(true)
  expect(text(r)).toMatch(/^\d+ pattern\(s\) similar to "retry with backoff" \((local|hash):\S+, hybrid\)/)
  expect((r.structuredContent as { model: string }).model).toMatch(/^(local|hash):/)
})

test("the routing tools answer for real: status, a switch of algorithm, training", async () => {
  const status = await mcp.call("cca_rl_status", {})
  expect(status.isError).toBeFalsy()
  expect(text(status)).toMatch(/^routing: linucb, \d+ rewarded decisions; mean reward of the last \d+ learned decisions \S+ vs \d+ heuristic \S+; ε 0\.03; /)
  expect(status.structuredContent).toMatchObject({ algorithm: "linucb", params: { epsilon: 0.03 } })
  const switched = await mcp.call("cca_rl_algorithm", { algorithm: "dqn" })
  expect(text(switched)).toBe("routing algorithm is now dqn (was linucb)")
  const trained = await mcp.call("cca_rl_train", {})
  expect(text(trained)).toMatch(/^trained dqn v1 on \d+ recorded decisions/)
  const back = await mcp.call("cca_rl_algorithm", { algorithm: "linucb" })
  expect(text(back)).toBe("routing algorithm is now linucb (was dqn)")
})

test("bad input: a missing or mistyped field is a tool error naming it, and the server keeps serving", async () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ["cca_task", {}, /description/],
    ["cca_task", { description: 42 }, /expected string.*description/],
    ["cca_task", { description: "x", priority: "high" }, /priority/],
    ["cca_task", { description: "x", role: "Not A Role" }, /role must be a role name/],
    ["cca_task", { description: "   " }, /description must say what the task should do/],
    ["cca_status", { task_id: 5 }, /task_id/],
    ["cca_activity", { limit: 0 }, /limit/],
    ["cca_memory", {}, /query/],
    ["cca_memory", { query: "x", limit: "ten" }, /limit/],
    ["cca_broadcast", {}, /message/],
    ["cca_broadcast", { message: "" }, /message must not be empty/],
    ["cca_rl_algorithm", {}, /algorithm/],
    ["cca_rl_algorithm", { algorithm: "sarsa" }, /algorithm/],
    ["cca_tokens_analyze", { content: ["a"] }, /content/],
    ["cca_tokens_compress", { content: "x", target_reduction: 2 }, /target_reduction/],
    ["cca_index_codebase", {}, /path/],
    ["cca_index_codebase", { path: ".", extensions: "ts" }, /extensions/],
    ["cca_search_code", { query: "x", limit: -1 }, /limit/],
  ]
  for (const [name, args, pattern] of bad) {
    const r = await mcp.call(name, args)
    expect(r.isError, `${name} ${JSON.stringify(args)}`).toBe(true)
    expect(text(r), `${name} ${JSON.stringify(args)}`).toMatch(/Input validation error/)
    expect(text(r).replace(/\n/g, " "), `${name} ${JSON.stringify(args)}`).toMatch(pattern)
  }
  const unknown = await mcp.call("cca_nothing", {})
  expect(unknown.isError).toBe(true)
  expect(text(unknown)).toContain("Tool cca_nothing not found")
  // Still serving, and no task was created by any of the bad calls.
  expect((await mcp.call("cca_agents")).isError).toBeFalsy()
  const page = (await d.api("GET", "/api/v1/tasks?limit=500")).body.items as { description: string }[]
  expect(page.filter((t) => t.description === "x")).toEqual([])
})

test("the daemon is found like the CLI finds it: run dir + CCA_API_KEY, or cca.toml's [client]; a missing key says how to get one", async () => {
  await using viaRunDir = await startMcp([], { ...d.home, CCA_API_KEY: d.key })
  expect(text(await viaRunDir.call("cca_agents"))).toMatch(/^1 agent\(s\)/)

  await using noKey = await startMcp([], d.home)
  const refused = await noKey.call("cca_agents")
  expect(refused.isError).toBe(true)
  expect(text(refused)).toBe("cca_agents: an API key is required\nTry: set CCA_API_KEY to a key from `cca keys create` (or client.api_key in cca.toml)")

  await using tmp = await tmpdir({ prefix: "cca-mcp-client-" })
  const home = homeEnv(tmp.path)
  mkdirSync(join(home.XDG_CONFIG_HOME!, "cca"), { recursive: true })
  writeFileSync(join(home.XDG_CONFIG_HOME!, "cca", "cca.toml"), `[client]\nurl = "${d.http}"\napi_key = "${d.key}"\n`, { mode: 0o600 })
  await using viaToml = await startMcp([], home)
  expect(text(await viaToml.call("cca_agents"))).toMatch(/^1 agent\(s\)/)
})
