import { afterAll, beforeAll, expect, test } from "bun:test"
import { ManualClock } from "../../src/acp/clock"
import type { AgentMessageNotice, TaskAssignParams } from "../../src/acp/protocol"
import { FEATURE_NAMES } from "../../src/orchestrator/features"
import { signal, taskEvent, testDaemon, type TestDaemon } from "../daemon/harness"

// Routing records and routing rules against a real daemon in this process
// (PGlite, ACP on a free port) and ACP agents from the client library. Task
// timeouts and dispatch ticks run on a manual clock.

const clock = new ManualClock(0)
let t: TestDaemon
beforeAll(async () => {
  // A pool that cannot start agents: every agent here is an ACP client.
  t = await testDaemon({ tasks: { timeout_s: 60, max_depth: 2 }, learning: { token_budget: 1000, baseline_s: 60 } }, { taskClock: clock, pool: { maxAgents: 0 } })
}, 60_000)
afterAll(async () => {
  await t[Symbol.asyncDispose]()
})

const create = async (body: Record<string, unknown>) => {
  const r = await t.json("POST", "/api/v1/tasks", body)
  if (r.status !== 202) throw new Error(`create: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body.id as string
}
const task = async (id: string) => (await t.json("GET", `/api/v1/tasks/${id}`)).body
/** The task's first event of `type`, whether it is out already or still to come. */
async function seen(id: string, type: string): Promise<{ type: string; data: Record<string, unknown> }> {
  const next = taskEvent(t, id, type)
  next.catch(() => {})
  const past = (await t.daemon.ctx.orchestrator.taskEvents(id)).find((e) => e.type === type)
  return past ?? next
}
/** The routing records of a task, once the ones being written are in. */
const experiences = async (id: string) => {
  await t.daemon.ctx.orchestrator.records.flush()
  return t.daemon.ctx.orchestrator.records.repo.forTask(id)
}

/** An agent that accepts every task and reports what `answer` says when asked. */
async function worker(id: string, role: string, answer: (p: TaskAssignParams) => Parameters<Awaited<ReturnType<TestDaemon["agent"]>>["result"]>[0] | null = (p) => ({ taskId: p.taskId, status: "completed", output: `done: ${p.prompt}` })) {
  const offers: TaskAssignParams[] = []
  const messages: AgentMessageNotice[] = []
  const a = await t.agent(id, role, {
    taskAssign: (p) => {
      offers.push(p)
      const r = answer(p)
      if (r) setTimeout(() => void a.result(r).catch(() => {}), 0) // the test may close the agent before the answer
      return { accepted: true }
    },
    message: (m) => messages.push(m),
  })
  return { a, offers, messages }
}

test("a content-routed task goes to its role; with no agent of that role at all, any idle agent takes it", async () => {
  const offered = signal<string>()
  const qa = await worker("soft-qa", "qa", (p) => (offered.resolve(p.taskId), null))
  const id = await create({ description: "Add a REST API endpoint for the orders service" })
  expect(await offered.promise).toBe(id)
  expect(await task(id)).toMatchObject({ role: "backend", metadata: { routing: { role: "backend", reason: "content", scores: { backend: 3 } } } })
  await qa.a.result({ taskId: id, status: "completed", output: "did it anyway" })
  expect((await task(id)).status).toBe("completed")

  // With a backend agent live (but busy), a backend task waits for it instead of going to the idle qa agent.
  const beOffered = signal<string>()
  const be = await worker("soft-be", "backend", (p) => (beOffered.resolve(p.taskId), null))
  const first = await create({ description: "Add a REST API endpoint for invoices" })
  expect(await beOffered.promise).toBe(first)
  await seen(first, "accepted")
  const second = await create({ description: "Add a REST API endpoint for refunds" })
  clock.advance(2000) // a dispatch tick
  await t.daemon.ctx.orchestrator.dispatch()
  expect((await task(second)).status).toBe("pending")
  expect(qa.offers.map((o) => o.taskId)).toEqual([id])
  const next = taskEvent(t, second, "accepted")
  await be.a.result({ taskId: first, status: "completed", output: "invoices" })
  await next
  expect(be.offers.map((o) => o.taskId)).toEqual([first, second])
  await be.a.result({ taskId: second, status: "completed", output: "refunds" })
  await qa.a.close()
  await be.a.close()
})

test("each decision is an rl_experiences row: the state it saw, the role and agent chosen, then its reward", async () => {
  const w = await worker("rec-1", "rec-role", () => null)
  const id = await create({ description: "record me", role: "rec-role", priority: 5 })
  await seen(id, "accepted")
  expect(await experiences(id)).toEqual([]) // written once the attempt has ended
  const done = taskEvent(t, id, "completed")
  await w.a.result({ taskId: id, status: "completed", output: "ok", tokens: { input: 400, output: 100 }, data: { usage: { cacheCreationTokens: 300, cacheReadTokens: 90_000 } }, costUsd: 0.02, durationMs: 900 })
  await done
  expect(await task(id)).toMatchObject({ usage: { inputTokens: 400, outputTokens: 100, cacheCreationTokens: 300, cacheReadTokens: 90_000 }, costUsd: 0.02, durationMs: 900 })
  const [settled] = await experiences(id)
  expect(settled).toMatchObject({ algorithm: "linucb", action: "rec-role", actionIndex: 5, metadata: { decidedBy: "heuristic", reason: "binding", propensity: 1 } })
  expect(settled!.metadata).toMatchObject({ agentId: "rec-1", executor: "remote", attempt: 1, routing: "explicit", spawned: false })
  expect(settled!.state.features).toHaveLength(FEATURE_NAMES.length)
  expect(settled!.state.task).toMatchObject({ role: "rec-role", priority: 5, attempt: 0, depth: 0, coordinate: false })
  expect(settled!.state.pool.agents).toBeGreaterThanOrEqual(1)
  expect(settled!.rewardedAt).toBeInstanceOf(Date)
  // +1 success, +0.2: 800 budget tokens <= 1000 (cache reads do not count), +0.1: 900 ms < the 60 s default baseline
  expect(settled).toMatchObject({ reward: 1.3, done: true })
  expect(settled!.outcome).toMatchObject({ status: "completed", budgetTokens: 800, tokenBudget: 1000, underBudget: true, durationMs: 900, baselineMs: 60_000, baselineSource: "default", faster: true })
  expect(settled!.nextState!.features).toHaveLength(FEATURE_NAMES.length)

  // over budget and slower than the baseline: +1 only
  const slow = await create({ description: "slow and big", role: "rec-role" })
  await seen(slow, "accepted")
  const slowDone = taskEvent(t, slow, "completed")
  await w.a.result({ taskId: slow, status: "completed", output: "ok", tokens: { input: 900, output: 200 }, durationMs: 61_000 })
  await slowDone
  expect((await experiences(slow))[0]).toMatchObject({ reward: 1, outcome: { underBudget: false, faster: false } })

  const failing = await create({ description: "fail me", role: "rec-role" })
  await seen(failing, "accepted")
  const failed = taskEvent(t, failing, "failed")
  await w.a.result({ taskId: failing, status: "failed", error: "no" })
  await failed
  expect((await experiences(failing))[0]).toMatchObject({ reward: -0.5, done: true, outcome: { status: "failed", code: "agent_failed" } })

  const cancelled = await create({ description: "cancel me", role: "rec-role" })
  await seen(cancelled, "accepted")
  await t.json("POST", `/api/v1/tasks/${cancelled}/cancel`, {})
  expect((await experiences(cancelled))[0]).toMatchObject({ reward: 0, done: true, outcome: { status: "cancelled" } })

  const timedOut = await create({ description: "too slow", role: "rec-role", timeoutMs: 1000 })
  await seen(timedOut, "accepted")
  const failedByTimeout = taskEvent(t, timedOut, "failed")
  clock.advance(1000)
  await failedByTimeout
  expect((await experiences(timedOut))[0]).toMatchObject({ reward: -0.5, done: true, outcome: { status: "failed", code: "timeout" } })
  await w.a.close()
})

test("an attempt lost with its agent is settled -0.5 and not done; the retry on another agent is its own decision", async () => {
  const first = await worker("lost-1", "lost-role", () => null)
  const id = await create({ description: "survive", role: "lost-role" })
  await seen(id, "accepted")
  const requeued = taskEvent(t, id, "requeued")
  await first.a.close()
  await requeued
  const second = await worker("lost-2", "lost-role")
  await seen(id, "completed")
  const rows = await experiences(id)
  expect(rows.map((r) => [r.metadata.agentId, r.reward, r.done, r.outcome?.status])).toEqual([
    ["lost-1", -0.5, false, "requeued"],
    ["lost-2", 1.2, true, "completed"], // no duration reported: not faster than the baseline
  ])
  expect(rows[0]!.outcome).toMatchObject({ code: "agent_disconnected" })
  expect(rows[1]!.state.task.attempt).toBe(1)
  expect(rows[1]!.state.features[FEATURE_NAMES.indexOf("task.attempt")]).toBeCloseTo(1 / 3, 4)
  await second.a.close()
})

test("a task whose agent dies on its last attempt fails, and that decision is done", async () => {
  const w = await worker("last-1", "last-role", () => null)
  const id = await create({ description: "one chance", role: "last-role", maxAttempts: 1 })
  await seen(id, "accepted")
  const failed = taskEvent(t, id, "failed")
  await w.a.close()
  expect((await failed).data.error).toMatchObject({ code: "attempts_exhausted", details: { lastError: { code: "agent_disconnected" } } })
  expect(await experiences(id)).toMatchObject([{ reward: -0.5, done: true, outcome: { status: "failed", code: "agent_disconnected" } }])
})

test("the duration baseline is the role's median once it has five completions", async () => {
  const w = await worker("base-1", "base-role", () => null)
  const run = async (durationMs: number) => {
    const id = await create({ description: `took ${durationMs}`, role: "base-role" })
    await seen(id, "accepted")
    const done = taskEvent(t, id, "completed")
    await w.a.result({ taskId: id, status: "completed", output: "ok", durationMs })
    await done
    return (await experiences(id))[0]!
  }
  for (const ms of [100, 200, 300, 400, 500]) expect((await run(ms)).outcome).toMatchObject({ baselineSource: "default", faster: true })
  expect(await run(350)).toMatchObject({ reward: 1.2, outcome: { baselineMs: 300, baselineSource: "median", faster: false } })
  expect(await run(250)).toMatchObject({ reward: 1.3, outcome: { baselineMs: 325, baselineSource: "median", faster: true } })
  await w.a.close()
})

test("delegation is capped at tasks.max_depth", async () => {
  const root = await create({ description: "depth 0", role: "nobody-depth" })
  const one = await create({ description: "depth 1", role: "nobody-depth", parentId: root })
  const two = await create({ description: "depth 2", role: "nobody-depth", parentId: one })
  expect((await task(two)).depth).toBe(2)
  const refused = await t.json("POST", "/api/v1/tasks", { description: "depth 3", role: "nobody-depth", parentId: two })
  expect(refused.status).toBe(400)
  expect(refused.body.error).toMatchObject({ code: "validation", message: expect.stringContaining("limit of 2"), hint: expect.stringContaining("tasks.max_depth") })
  // cancelling the root cancels what it delegated
  await t.json("POST", `/api/v1/tasks/${root}/cancel`, { reason: "stop it all" })
  expect(await task(one)).toMatchObject({ status: "cancelled", error: { message: `parent task ${root} was cancelled` } })
  expect((await task(two)).status).toBe("cancelled")
})

test("a coordinated task's result aggregates the coordinator's answer and its subtasks, also those that end later", async () => {
  const childOffered = signal<string>()
  const be = await worker("agg-be", "agg-backend", (p) => (childOffered.resolve(p.taskId), null))
  const coordinator = await worker("agg-co", "coordinator", () => null)
  const id = await create({ description: "plan and build it", coordinate: true })
  expect(await task(id)).toMatchObject({ role: "coordinator", coordinate: true, metadata: { routing: { reason: "coordinate" } } })
  await seen(id, "accepted")
  expect(coordinator.offers.map((o) => o.taskId)).toEqual([id])

  // The coordinator delegates one part and waits for it, and a second part without waiting.
  const waited = coordinator.a.delegate({ prompt: "build the API", role: "agg-backend", parentTaskId: id, wait: true, timeoutMs: 10_000 })
  const child = await childOffered.promise
  expect(await task(child)).toMatchObject({ parentId: id, rootId: id, depth: 1, source: "delegation", metadata: { delegatedBy: "agg-co" } })
  await be.a.result({ taskId: child, status: "completed", output: "API built", tokens: { input: 10, output: 20 }, costUsd: 0.5 })
  expect((await waited).result).toMatchObject({ status: "completed", output: "API built" })
  // the delegating agent heard of its subtask's steps over ACP
  expect(coordinator.messages.map((m) => m.message)).toContain(`task ${child} completed`)
  expect(coordinator.messages.find((m) => m.message === `task ${child} completed`)!.data).toMatchObject({ taskEvent: { taskId: child, type: "completed" } })

  const later = await coordinator.a.delegate({ prompt: "document the API", role: "agg-backend", parentTaskId: id })
  await seen(later.taskId, "accepted")
  const done = taskEvent(t, id, "completed")
  await coordinator.a.result({ taskId: id, status: "completed", output: "built, docs underway", tokens: { input: 1, output: 2 }, costUsd: 0.25 })
  await done
  const parent = await task(id)
  expect(parent.result).toBe("built, docs underway")
  expect(parent.metadata.aggregate).toMatchObject({
    answer: "built, docs underway",
    children: [
      { id: child, role: "agg-backend", status: "completed", agentId: "agg-be", result: "API built" },
      { id: later.taskId, status: "running", result: null },
    ],
    pending: 1,
    total: { tasks: 3, usage: { inputTokens: 11, outputTokens: 22 }, costUsd: 0.75 },
  })

  const childDone = taskEvent(t, id, "child")
  await be.a.result({ taskId: later.taskId, status: "completed", output: "docs written" })
  expect((await childDone).data).toMatchObject({ childId: later.taskId, status: "completed" })
  expect((await task(id)).metadata.aggregate).toMatchObject({ pending: 0, children: [{ status: "completed" }, { id: later.taskId, status: "completed", result: "docs written" }] })
  await be.a.close()
  await coordinator.a.close()
})
