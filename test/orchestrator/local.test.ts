import { afterAll, beforeAll, expect, test } from "bun:test"
import { join } from "node:path"
import { FEATURE_NAMES } from "../../src/orchestrator/features"
import { DEFAULT_PARAMS } from "../../src/rl/params"
import { CLAUDE, claudeEnv, SONNET, sonnetCost } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { signal, taskEvent, testDaemon, type TestDaemon } from "../daemon/harness"

// The dispatcher with the local pool: a daemon in this process (so the test
// can read rl_experiences from its store) whose pool runs the real `claude`
// against a scripted model. Idle agents first, a new agent when the pool has
// room, else the queue; every decision recorded with its reward.

let t: TestDaemon
let model: ModelServer
let workspace: TmpDir
const usage = { input: 900, output: 40, cacheCreation: 50, cacheRead: 7000 }

beforeAll(async () => {
  model = await startModelServer([
    { match: { system: "# Role: backend", lastUserText: /^Add a REST API endpoint/ }, reply: { content: "endpoint added", usage } },
    { match: { system: "# Role: backend", lastUserText: "slow migration" }, reply: { content: "migrated", delayMs: 1500 } },
    { match: { system: "# Role: backend", lastUserText: "after the migration" }, reply: { content: "next one done" } },
  ])
  workspace = await tmpdir({ prefix: "orch-local-" })
  t = await testDaemon({ agents: { max_agents: 1 } }, { pool: { claudePath: CLAUDE, model: SONNET, env: { ...claudeEnv(model), CLAUDE_CODE_MAX_RETRIES: "0" }, mcpCommand: null, workspace: workspace.path, stateRoot: join(workspace.path, "agents") } })
}, 60_000)

afterAll(async () => {
  await t?.[Symbol.asyncDispose]()
  await model?.close()
  await workspace?.[Symbol.asyncDispose]()
})

const create = async (body: Record<string, unknown>) => (await t.json("POST", "/api/v1/tasks", body)).body.id as string
const task = async (id: string) => (await t.json("GET", `/api/v1/tasks/${id}`)).body
const o = () => t.daemon.ctx.orchestrator

/** Resolves with the task once it reaches a final status. */
async function finished(id: string) {
  const ended = await o().waitFor(id, 60_000)
  if (!ended) throw new Error(`task ${id} did not finish: ${JSON.stringify(await task(id))}`)
  return ended
}

test("with no agent, a task's role gets a new agent; the task runs on it and the decision is recorded with its reward", async () => {
  expect(t.daemon.ctx.pool.list()).toEqual([])
  const id = await create({ description: "Add a REST API endpoint for orders" })
  const done = await finished(id)
  const [agent] = t.daemon.ctx.pool.list()
  expect(agent).toMatchObject({ role: "backend", status: "idle" })
  expect(done).toMatchObject({ status: "completed", role: "backend", agentId: agent!.id, result: "endpoint added" })
  expect(done.usage).toEqual({ inputTokens: 900, outputTokens: 40, cacheCreationTokens: 50, cacheReadTokens: 7000 })
  expect(done.costUsd).toBeCloseTo(sonnetCost(usage), 9)

  await o().records.flush()
  const [row] = await o().records.repo.forTask(id)
  expect(row).toMatchObject({ algorithm: "linucb", action: "backend", actionIndex: 2, done: true, reward: 1.3 })
  // the learned router was untrained: the heuristic decided, with the bounded exploration mixed in
  expect(row!.metadata).toMatchObject({ decidedBy: "heuristic", reason: "untrained", heuristic: 2 })
  // ε is spread over the 5 eligible roles: the heuristic's own pick keeps 1 - ε + ε/5
  expect(row!.metadata.propensity as number).toBeCloseTo(1 - DEFAULT_PARAMS.epsilon + DEFAULT_PARAMS.epsilon / 5, 9)
  expect(row!.metadata).toMatchObject({ agentId: agent!.id, executor: "local", attempt: 1, routing: "content", spawned: true })
  // the state it was decided in: a backend task (by its words), one idle backend agent, a full pool (max_agents = 1)
  const f = (name: string) => row!.state.features[FEATURE_NAMES.indexOf(name)]
  expect(f("task.role.backend")).toBe(1)
  expect(f("task.score.backend")).toBeGreaterThan(0)
  expect(f("pool.idle.backend")).toBe(1)
  expect(f("pool.agents")).toBe(1)
  expect(f("pool.can_spawn")).toBe(0)
  expect(row!.outcome).toMatchObject({ status: "completed", budgetTokens: 990, underBudget: true, faster: true, costUsd: done.costUsd, durationMs: done.durationMs })
}, 90_000)

test("with the pool full and its agent busy, the next task waits in the queue and runs when the agent is free", async () => {
  const [agent] = t.daemon.ctx.pool.list()
  const first = await create({ description: "slow migration", role: "backend" })
  const busy = signal<void>()
  const off = t.daemon.ctx.pool.on("busy", (e) => e.taskId === first && busy.resolve())
  await busy.promise
  off()
  const second = await create({ description: "after the migration", role: "backend" })
  await o().dispatch()
  expect((await task(second)).status).toBe("pending")
  expect(t.daemon.ctx.pool.list()).toHaveLength(1)
  const claimed = taskEvent(t, second, "claimed", 30_000)
  expect(await finished(first)).toMatchObject({ status: "completed", agentId: agent!.id })
  expect((await claimed).data.agentId).toBe(agent!.id)
  expect(await finished(second)).toMatchObject({ status: "completed", agentId: agent!.id, result: "next one done" })
  await o().records.flush()
  const [row] = await o().records.repo.forTask(second)
  expect(row!.metadata).toMatchObject({ agentId: agent!.id, spawned: false, routing: "explicit" })
  expect(row!.state.task.role).toBe("backend")
}, 90_000)

test("a turn whose model request was refused fails its task with the API's status, type and text, not 'the turn ended with success'", async () => {
  model.prepend({ match: { lastUserText: "a request the API refuses" }, reply: { content: "", error: { status: 400, type: "invalid_request_error", message: "messages.0.content: prompt is malformed (scripted)" } } })
  const id = await create({ description: "a request the API refuses", role: "backend" })
  const done = await finished(id)
  expect(done.status).toBe("failed")
  expect(done.error).toMatchObject({ code: "model_api_error", details: { status: 400, type: "invalid_request_error" } })
  expect(done.error!.message).toContain("HTTP 400 invalid_request_error")
  expect(done.error!.message).toContain("prompt is malformed (scripted)")
  expect(done.error!.message).not.toContain("ended with success")
  // 529 overloaded (Claude Code's own retries off here, CLAUDE_CODE_MAX_RETRIES=0): the same, with its status
  model.prepend({ match: { lastUserText: "a request the API is too busy for" }, reply: { content: "", error: { status: 529, type: "overloaded_error", message: "Overloaded" } } })
  const busy = await finished(await create({ description: "a request the API is too busy for", role: "backend" }))
  expect(busy.error).toMatchObject({ code: "model_api_error", details: { status: 529, type: "overloaded_error" } })
  expect(busy.error!.message).toContain("HTTP 529 overloaded_error")
  // the agent is fine: the next task runs on it
  const next = await finished(await create({ description: "Add a REST API endpoint for invoices", role: "backend" }))
  expect(next.status).toBe("completed")
})

test("a broadcast reaches the pool's own agents (in front of their next prompt) as it reaches remote ones, and is counted", async () => {
  model.prepend({ match: { lastUserText: /read the broadcasts/ }, reply: { content: "noted" } })
  const [agent] = t.daemon.ctx.pool.list()
  expect(agent?.status).toBe("idle")
  const b = await t.json("POST", "/api/v1/broadcast", { message: "freeze the API until Friday" })
  expect(b.body).toEqual({ recipients: 1, remote: 0, local: 1 })
  // an agent's broadcast over ACP counts the pool's agents too (not itself)
  const far = await t.agent("far-listener", "listener")
  expect(await far.broadcast({ message: "release is on hold" })).toEqual({ recipients: 1 })

  const first = await finished(await create({ description: "read the broadcasts, then answer", role: "backend" }))
  expect(first.status).toBe("completed")
  const seen = model.turns().filter((r) => /read the broadcasts/.test(r.conversation?.lastUserText ?? ""))
  const text = seen.at(-1)!.conversation!.lastUserText!
  expect(text).toContain('<broadcast from="api">freeze the API until Friday</broadcast>')
  expect(text).toContain('<broadcast from="far-listener">release is on hold</broadcast>')
  // delivered once: the next prompt has no broadcasts
  await finished(await create({ description: "read the broadcasts again", role: "backend" }))
  expect(model.turns().filter((r) => /read the broadcasts again/.test(r.conversation?.lastUserText ?? "")).at(-1)!.conversation!.lastUserText).not.toContain("<cca-broadcasts>")
})
