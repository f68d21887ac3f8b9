import { afterAll, beforeAll, expect, test } from "bun:test"
import { ManualClock } from "../../src/acp/clock"
import type { TaskAssignParams, TaskCancelParams } from "../../src/acp/protocol"
import { signal, taskEvent, testDaemon, type TestDaemon } from "./harness"

// The dispatcher against real ACP agents (the acp client library over a real
// WebSocket) and a real store. Each test uses its own roles so that tasks of
// one never reach the agents of another. Task timeouts run on a manual clock.

const clock = new ManualClock(0)
let t: TestDaemon
beforeAll(async () => {
  t = await testDaemon({ tasks: { timeout_s: 60 } }, { taskClock: clock })
}, 60_000)
afterAll(async () => {
  await t[Symbol.asyncDispose]()
})

const create = async (body: Record<string, unknown>) => (await t.json("POST", "/api/v1/tasks", body)).body.id as string
const task = async (id: string) => (await t.json("GET", `/api/v1/tasks/${id}`)).body

test("a task goes to an idle agent of its role, and its result completes it", async () => {
  const offered = signal<TaskAssignParams>()
  const frontendOffered: TaskAssignParams[] = []
  const fe = await t.agent("fe-1", "r1-frontend", { taskAssign: (p) => (frontendOffered.push(p), { accepted: true }) })
  const be = await t.agent("be-1", "r1-backend", { taskAssign: (p) => (offered.resolve(p), { accepted: true }) })
  const accepted = signal<string>()
  const id = await create({ description: "add an endpoint", prompt: "add GET /x", role: "r1-backend", metadata: { ticket: 1 } })
  taskEvent(t, id, "accepted").then((e) => accepted.resolve(String(e.data.agentId)))
  const p = await offered.promise
  expect(p).toMatchObject({ taskId: id, prompt: "add GET /x", role: "r1-backend", title: "add an endpoint", metadata: { ticket: 1 } })
  expect(await accepted.promise).toBe("be-1")
  expect(await task(id)).toMatchObject({ status: "running", agentId: "be-1", attempts: 1 })
  expect((await t.json("GET", "/api/v1/agents/be-1")).body.status).toBe("busy")

  const progressed = taskEvent(t, id, "progress")
  be.progress({ taskId: id, percent: 40, message: "half way" })
  expect((await progressed).data).toMatchObject({ message: "half way" })
  expect(await task(id)).toMatchObject({ progress: 0.4, progressMessage: "half way" })

  const completed = taskEvent(t, id, "completed")
  await be.result({ taskId: id, status: "completed", output: "added", tokens: { input: 120, output: 30 }, costUsd: 0.01, durationMs: 900 })
  await completed
  expect(await task(id)).toMatchObject({ status: "completed", result: "added", usage: { inputTokens: 120, outputTokens: 30 }, costUsd: 0.01, durationMs: 900 })
  expect(frontendOffered).toEqual([])
  await fe.close() // idle agents would take the role-less tasks of the next test
  await be.close()
})

test("progress sent right before the result is applied before it: every progress event precedes completed", async () => {
  const a = await t.agent("burst-1", "r-burst", { taskAssign: () => ({ accepted: true }) })
  const id = await create({ description: "report a lot, then finish", role: "r-burst" })
  await taskEvent(t, id, "accepted")
  const completed = taskEvent(t, id, "completed")
  // Notifications and the result leave on one connection back to back; the daemon handles them asynchronously.
  for (let i = 1; i <= 20; i++) a.progress({ taskId: id, percent: i * 4, message: `step ${i}` })
  await a.result({ taskId: id, status: "completed", output: "done" })
  await completed
  const events = await t.daemon.ctx.store.events.list(id)
  const order = events.filter((e) => e.type === "progress" || e.type === "completed").map((e) => (e.type === "progress" ? String(e.data.message) : e.type))
  expect(order).toEqual([...Array.from({ length: 20 }, (_, i) => `step ${i + 1}`), "completed"])
  await a.close()
})

test("a task without a role goes to any idle agent; one whose role has no agent waits", async () => {
  const got = signal<TaskAssignParams>()
  const a = await t.agent("any-1", "r2-anything", { taskAssign: (p) => (got.resolve(p), { accepted: true }) })
  const waiting = await create({ description: "nobody can do this", role: "r2-absent" })
  const anyone = await create({ description: "anyone can do this" })
  expect((await got.promise).taskId).toBe(anyone)
  const done = taskEvent(t, anyone, "completed")
  await a.result({ taskId: anyone, status: "completed", output: "ok" })
  await done
  expect((await task(waiting)).status).toBe("pending")
  await t.json("POST", `/api/v1/tasks/${waiting}/cancel`, {})
  await a.close()
})

test("an agent's failure fails the task with its message", async () => {
  const a = await t.agent("fail-1", "r3", { taskAssign: () => ({ accepted: true }) })
  const id = await create({ description: "doomed", role: "r3" })
  await taskEvent(t, id, "claimed")
  const failed = taskEvent(t, id, "failed")
  await a.result({ taskId: id, status: "failed", error: "compiler exploded" })
  await failed
  expect((await task(id)).error).toMatchObject({ code: "agent_failed", message: "compiler exploded" })
  await a.close()
})

test("a refused task is requeued and taken by another agent of the role", async () => {
  const accepted = signal<string>()
  const refuser = await t.agent("refuser", "r4", { taskAssign: () => ({ accepted: false, reason: "too busy" }) })
  const id = await create({ description: "someone take this", role: "r4" })
  const requeued = await taskEvent(t, id, "requeued")
  expect(requeued.data.reason).toMatchObject({ code: "agent_refused" })
  await refuser.close()
  const taker = await t.agent("taker", "r4", { taskAssign: (p) => (accepted.resolve(p.taskId), { accepted: true }) })
  expect(await accepted.promise).toBe(id)
  const done = taskEvent(t, id, "completed")
  await taker.result({ taskId: id, status: "completed", output: "took it" })
  await done
  expect(await task(id)).toMatchObject({ status: "completed", agentId: "taker", attempts: 2 })
  await taker.close()
})

test("when its agent disconnects the task is requeued at once and another agent finishes it", async () => {
  const second = signal<string>()
  const a = await t.agent("drop-1", "r5", { taskAssign: () => ({ accepted: true }) })
  const id = await create({ description: "survive a disconnect", role: "r5" })
  await taskEvent(t, id, "accepted")
  const requeued = taskEvent(t, id, "requeued")
  await a.close()
  expect((await requeued).data.reason).toMatchObject({ code: "agent_disconnected" })
  const b = await t.agent("drop-2", "r5", { taskAssign: (p) => (second.resolve(p.taskId), { accepted: true }) })
  expect(await second.promise).toBe(id)
  const done = taskEvent(t, id, "completed")
  await b.result({ taskId: id, status: "completed", output: "finished" })
  await done
  expect(await task(id)).toMatchObject({ status: "completed", agentId: "drop-2", attempts: 2 })
  await b.close()
})

test("an agent that registers again still running a requeued task claims it back", async () => {
  const a = await t.agent("back-1", "r6", { taskAssign: () => ({ accepted: true }) })
  const id = await create({ description: "keep going", role: "r6" })
  await taskEvent(t, id, "accepted")
  // The daemon lost track (as after a restart): the task is pending again, the agent still runs it.
  const requeued = taskEvent(t, id, "requeued")
  await t.daemon.ctx.orchestrator.requeue(id, "back-1", { code: "test", message: "simulated restart" })
  await requeued
  const reclaimed = taskEvent(t, id, "claimed")
  await a.request("agent.register", { agentId: "back-1", role: "r6", taskIds: [id] })
  expect((await reclaimed).data).toMatchObject({ agentId: "back-1", attempt: 2 })
  const done = taskEvent(t, id, "completed")
  await a.result({ taskId: id, status: "completed", output: "kept going" })
  await done
  expect(await task(id)).toMatchObject({ status: "completed", agentId: "back-1", attempts: 2 })
  await a.close()
})

test("a task with no result within its timeout fails and its agent is told to stop", async () => {
  const cancelled = signal<TaskCancelParams>()
  const a = await t.agent("slow-1", "r7", { taskAssign: () => ({ accepted: true }), taskCancel: (p) => cancelled.resolve(p) })
  const id = await create({ description: "too slow", role: "r7", timeoutMs: 5000 })
  await taskEvent(t, id, "accepted")
  const failed = taskEvent(t, id, "failed")
  clock.advance(4999)
  expect((await task(id)).status).toBe("running")
  clock.advance(1)
  expect((await failed).data.error).toMatchObject({ code: "timeout" })
  expect(await cancelled.promise).toMatchObject({ taskId: id, reason: "timeout" })
  // a late result changes nothing
  await a.result({ taskId: id, status: "completed", output: "too late" })
  expect(await task(id)).toMatchObject({ status: "failed", result: null })
  await a.close()
})

test("cancelling a running task tells its agent and frees it for the next task", async () => {
  const cancelled = signal<TaskCancelParams>()
  const offers: string[] = []
  const next = signal<void>()
  const a = await t.agent("cx-1", "r8", { taskAssign: (p) => (offers.push(p.taskId), offers.length === 2 && next.resolve(), { accepted: true }), taskCancel: (p) => cancelled.resolve(p) })
  const first = await create({ description: "cancel me", role: "r8" })
  await taskEvent(t, first, "accepted")
  const second = await create({ description: "then me", role: "r8" })
  const c = await t.json("POST", `/api/v1/tasks/${first}/cancel`, { reason: "no longer needed" })
  expect(c.body.status).toBe("cancelled")
  expect(await cancelled.promise).toMatchObject({ taskId: first, reason: "no longer needed" })
  await next.promise
  expect(offers).toEqual([first, second])
  await a.close()
})

test("an agent can delegate a task and wait for its outcome", async () => {
  let reported: Promise<unknown> = Promise.resolve()
  const worker = await t.agent("dg-worker", "r9-worker", {
    taskAssign: (p) => {
      setTimeout(() => (reported = worker.result({ taskId: p.taskId, status: "completed", output: `did: ${p.prompt}` })), 0)
      return { accepted: true }
    },
  })
  const lead = await t.agent("dg-lead", "r9-lead", {})
  const r = await lead.delegate({ prompt: "write the docs", role: "r9-worker", wait: true, timeoutMs: 10_000 })
  expect(r.result).toMatchObject({ status: "completed", output: "did: write the docs" })
  expect(await task(r.taskId)).toMatchObject({ source: "delegation", role: "r9-worker", metadata: { delegatedBy: "dg-lead" } })
  expect(await reported).toEqual({ recorded: true })
  await worker.close()
  await lead.close()
})

test("the event stream replays after Last-Event-ID and ends with the final event", async () => {
  const a = await t.agent("sse-1", "r10", { taskAssign: () => ({ accepted: true }) })
  const id = await create({ description: "stream me", role: "r10" })
  await taskEvent(t, id, "accepted")
  const res = await t.req("GET", `/api/v1/tasks/${id}/events`)
  expect(res.headers.get("content-type")).toStartWith("text/event-stream")
  const reader = res.body!.getReader()
  const text = { all: "" }
  const readUntil = async (needle: string) => {
    while (!text.all.includes(needle)) {
      const { value, done } = await reader.read()
      if (done) break
      text.all += new TextDecoder().decode(value)
    }
  }
  await readUntil("event: accepted")
  a.progress({ taskId: id, percent: 10, message: "live" })
  await readUntil("event: progress")
  await a.result({ taskId: id, status: "completed", output: "streamed" })
  await readUntil("event: completed")
  expect((await reader.read()).done).toBe(true) // the server ends the stream after the final event
  const ids = [...text.all.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
  expect(ids).toEqual([...ids].sort((x, y) => x - y))
  expect(text.all.match(/^event: (\w+)$/gm)).toEqual(["event: created", "event: claimed", "event: accepted", "event: progress", "event: completed"])

  const resumed = await t.req("GET", `/api/v1/tasks/${id}/events`, { headers: { "last-event-id": String(ids[2]) } })
  const rest = await resumed.text()
  expect(rest.match(/^event: (\w+)$/gm)).toEqual(["event: progress", "event: completed"])
  const after = await t.req("GET", `/api/v1/tasks/${id}/events?after=${ids.at(-1)}`)
  expect((await after.text()).match(/^event:/gm)).toBeNull() // ended task, nothing after its last event
  await a.close()
})
