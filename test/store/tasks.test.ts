import { expect, test } from "bun:test"
import { ConflictError, NotFoundError, ValidationError } from "../../src/errors"
import { pgCode } from "../../src/store/sql"
import { taskRepo } from "../../src/store/tasks"
import { eventRepo } from "../../src/store/task-events"
import { eachEngine } from "../support/postgres"

// The task lifecycle, the same tests on PGlite in-process and on postgres.js
// talking to PGlite over the wire.

const by = { owner: "daemon-a", agentId: "backend-1" }

eachEngine((sql) => {
  const tasks = () => taskRepo(sql())
  const events = () => eventRepo(sql())

  test("create: a pending root task with defaults, and its created event", async () => {
    const { task, event } = await tasks().create({ description: "write the parser", role: "backend", metadata: { source: "test" } })
    expect(task).toMatchObject({
      description: "write the parser",
      role: "backend",
      status: "pending",
      priority: 0,
      attempts: 0,
      maxAttempts: 3,
      depth: 0,
      parentId: null,
      rootId: task.id,
      metadata: { source: "test" },
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
      costUsd: 0,
    })
    expect(task.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/) // UUIDv7
    expect(task.createdAt).toBeInstanceOf(Date)
    expect(event).toMatchObject({ taskId: task.id, type: "created", data: { status: "pending", role: "backend", priority: 0, parentId: null } })
    expect(await tasks().get(task.id)).toEqual(task)
    expect(await tasks().create({ id: task.id, description: "same id" }).catch((e) => e)).toBeInstanceOf(ConflictError)
  })

  test("create: children hang under their root, one level deeper each", async () => {
    const root = (await tasks().create({ description: "coordinate", coordinate: true })).task
    const child = (await tasks().create({ description: "backend part", parentId: root.id, source: "delegation" })).task
    const grandchild = (await tasks().create({ description: "detail", parentId: child.id })).task
    expect(root.coordinate).toBe(true)
    expect(child).toMatchObject({ parentId: root.id, rootId: root.id, depth: 1, source: "delegation" })
    expect(grandchild).toMatchObject({ parentId: child.id, rootId: root.id, depth: 2 })
  })

  test("create: an unknown or malformed parent is NotFoundError (from a foreign-key violation)", async () => {
    const missing = crypto.randomUUID()
    const err = await tasks().create({ description: "orphan", parentId: missing }).catch((e) => e)
    expect(err).toBeInstanceOf(NotFoundError)
    expect(pgCode(err.cause)).toBe("23503")
    expect(await tasks().create({ description: "orphan", parentId: "nope" }).catch((e) => e)).toBeInstanceOf(NotFoundError)
  })

  test("get: unknown and malformed ids are undefined, not errors", async () => {
    expect(await tasks().get(crypto.randomUUID())).toBeUndefined()
    expect(await tasks().get("not-a-uuid")).toBeUndefined()
  })

  test("list: filters by status, role and parent; cursor pages cover everything once, newest first", async () => {
    const root = (await tasks().create({ description: "root", role: "coordinator" })).task
    const made: string[] = [root.id]
    for (let i = 0; i < 6; i++) made.push((await tasks().create({ description: `t${i}`, role: i % 2 ? "qa" : "backend", parentId: root.id })).task.id)
    await tasks().claim(made[1]!, by)

    const seen: string[] = []
    let cursor: string | undefined
    for (let page = 0; page < 10; page++) {
      const p = await tasks().list({ limit: 3, cursor })
      seen.push(...p.items.map((t) => t.id))
      if (!p.nextCursor) break
      cursor = p.nextCursor
    }
    expect(seen).toEqual([...made].reverse())

    const oldest = await tasks().list({ order: "oldest", limit: 2 })
    expect(oldest.items.map((t) => t.id)).toEqual(made.slice(0, 2))
    expect((await tasks().list({ order: "oldest", offset: 5 })).items.map((t) => t.id)).toEqual(made.slice(5))
    expect((await tasks().list({ role: "qa" })).items.map((t) => t.description).sort()).toEqual(["t1", "t3", "t5"])
    expect((await tasks().list({ status: "running" })).items.map((t) => t.id)).toEqual([made[1]!])
    expect((await tasks().list({ status: ["running", "pending"] })).items).toHaveLength(7)
    expect((await tasks().list({ parentId: root.id })).items).toHaveLength(6)
    expect((await tasks().list({ parentId: "bad" })).items).toEqual([])
    expect(await tasks().counts()).toEqual({ pending: 6, running: 1, completed: 0, failed: 0, cancelled: 0 })
    expect(await tasks().list({ cursor: "forged" }).catch((e) => e)).toBeInstanceOf(ValidationError)
  })

  test("claimNext: highest priority first, then oldest; role filter; a claimed task is not claimable again", async () => {
    const low = (await tasks().create({ description: "low", role: "backend" })).task
    const high = (await tasks().create({ description: "high", role: "backend", priority: 5 })).task
    const qa = (await tasks().create({ description: "qa", role: "qa", priority: 9 })).task

    const first = await tasks().claimNext({ ...by, roles: ["backend"] })
    expect(first?.task).toMatchObject({ id: high.id, status: "running", attempts: 1, agentId: "backend-1", ownerDaemon: "daemon-a" })
    expect(first?.task.startedAt).toBeInstanceOf(Date)
    expect(first?.event).toMatchObject({ type: "claimed", data: { status: "running", attempt: 1, agentId: "backend-1", owner: "daemon-a" } })
    expect((await tasks().claimNext({ ...by, roles: ["backend"] }))?.task.id).toBe(low.id)
    expect(await tasks().claimNext({ ...by, roles: ["backend"] })).toBeUndefined()
    expect(await tasks().claim(high.id, { owner: "daemon-b" })).toBeUndefined()
    expect((await tasks().claimNext({ owner: "daemon-b" }))?.task.id).toBe(qa.id)
    expect(await tasks().claimNext({ owner: "daemon-b" })).toBeUndefined()
  })

  test("claimNext with includeUnrouted also takes tasks no router has placed; listClaimable shows the order", async () => {
    const unrouted = (await tasks().create({ description: "anyone", priority: 1 })).task
    const qa = (await tasks().create({ description: "qa only", role: "qa", priority: 2 })).task
    const backend = (await tasks().create({ description: "backend" , role: "backend" })).task
    expect((await tasks().listClaimable({ roles: ["backend"], includeUnrouted: true })).map((t) => t.id)).toEqual([unrouted.id, backend.id])
    expect((await tasks().listClaimable()).map((t) => t.id)).toEqual([qa.id, unrouted.id, backend.id])
    expect((await tasks().listClaimable({ roles: ["backend"] })).map((t) => t.id)).toEqual([backend.id])
    expect((await tasks().claimNext({ ...by, roles: ["backend"], includeUnrouted: true }))?.task.id).toBe(unrouted.id)
    expect((await tasks().claimNext({ ...by, roles: ["backend"], includeUnrouted: true }))?.task.id).toBe(backend.id)
    expect(await tasks().claimNext({ ...by, roles: ["backend"], includeUnrouted: true })).toBeUndefined()
    expect(await tasks().listClaimable({ limit: 5 })).toHaveLength(1)
  })

  test("claim by id takes exactly that pending task", async () => {
    const a = (await tasks().create({ description: "a" })).task
    const b = (await tasks().create({ description: "b", priority: 10 })).task
    const t = await tasks().claim(a.id, by)
    expect(t?.task.id).toBe(a.id)
    expect((await tasks().get(b.id))?.status).toBe("pending")
    expect(await tasks().claim("not-a-uuid", by)).toBeUndefined()
  })

  test("progress, then complete: usage and cost land on the task and in the events, in order", async () => {
    const { task } = await tasks().create({ description: "do it" })
    const claimed = (await tasks().claim(task.id, by))!
    const p = await tasks().progress(task.id, { progress: 0.5, message: "halfway", sessionId: "sess-1", data: { tool: "Read" } })
    expect(p?.task).toMatchObject({ progress: 0.5, progressMessage: "halfway", sessionId: "sess-1" })
    expect(p?.event).toMatchObject({ type: "progress", data: { progress: 0.5, message: "halfway", tool: "Read" } })

    const done = await tasks().complete(task.id, "all done", {
      usage: { inputTokens: 1200, outputTokens: 340, cacheReadTokens: 800, cacheCreationTokens: 50 },
      costUsd: 0.0123,
      durationMs: 4321,
      metadata: { model: "claude-x" },
      attempt: claimed.task.attempts,
    })
    expect(done?.task).toMatchObject({
      status: "completed",
      result: "all done",
      durationMs: 4321,
      costUsd: 0.0123,
      usage: { inputTokens: 1200, outputTokens: 340, cacheReadTokens: 800, cacheCreationTokens: 50 },
      metadata: { model: "claude-x" },
      sessionId: "sess-1",
      progress: 1,
    })
    expect(done?.task.finishedAt).toBeInstanceOf(Date)
    expect(done?.event.data).toMatchObject({ status: "completed", durationMs: 4321, usage: { inputTokens: 1200, outputTokens: 340 } })
    expect(await tasks().complete(task.id, "again")).toBeUndefined() // only a running task completes
    expect(await tasks().progress(task.id, { progress: 0.9 })).toBeUndefined()

    const log = await events().list(task.id)
    expect(log.map((e) => e.type)).toEqual(["created", "claimed", "progress", "completed"])
    expect(log.map((e) => e.id)).toEqual([...log.map((e) => e.id)].sort((a, b) => a - b))
  })

  test("a late result from a superseded attempt is fenced off", async () => {
    const { task } = await tasks().create({ description: "flaky" })
    await tasks().claim(task.id, { owner: "daemon-a", agentId: "a1" })
    await tasks().requeue(task.id, { reason: { code: "agent_died", message: "a1 exited" } })
    const second = (await tasks().claim(task.id, { owner: "daemon-a", agentId: "a2" }))!
    expect(second.task.attempts).toBe(2)
    expect(await tasks().complete(task.id, "stale", { attempt: 1 })).toBeUndefined()
    expect(await tasks().fail(task.id, { code: "x", message: "stale" }, { attempt: 1 })).toBeUndefined()
    expect((await tasks().complete(task.id, "fresh", { attempt: 2 }))?.task.result).toBe("fresh")
  })

  test("usage adds up over attempts", async () => {
    const { task } = await tasks().create({ description: "retry me" })
    await tasks().claim(task.id, by)
    await tasks().requeue(task.id, { reason: { code: "timeout", message: "took too long" }, usage: { inputTokens: 100, outputTokens: 10 }, costUsd: 0.5 })
    await tasks().claim(task.id, by)
    const done = await tasks().complete(task.id, "ok", { usage: { inputTokens: 50, outputTokens: 5 }, costUsd: 0.25 })
    expect(done?.task.usage).toMatchObject({ inputTokens: 150, outputTokens: 15 })
    expect(done?.task.costUsd).toBeCloseTo(0.75)
  })

  test("fail: pending or running tasks fail for good; finished ones do not", async () => {
    const pending = (await tasks().create({ description: "unroutable" })).task
    const failed = await tasks().fail(pending.id, { code: "no_route", message: "no agent can take it", hint: "spawn one" })
    expect(failed?.task).toMatchObject({ status: "failed", error: { code: "no_route", message: "no agent can take it", hint: "spawn one" } })
    expect(failed?.event).toMatchObject({ type: "failed", data: { status: "failed", error: { code: "no_route" } } })
    expect(await tasks().fail(pending.id, { code: "again", message: "again" })).toBeUndefined()

    const running = (await tasks().create({ description: "crashes" })).task
    await tasks().claim(running.id, by)
    const f = await tasks().fail(running.id, { code: "agent_error", message: "boom" }, { durationMs: 12, usage: { outputTokens: 7 } })
    expect(f?.task).toMatchObject({ status: "failed", durationMs: 12, usage: { outputTokens: 7 } })
  })

  test("requeue: back to pending without its agent, until attempts run out; then failed with the last reason", async () => {
    const { task } = await tasks().create({ description: "unlucky", maxAttempts: 2 })
    await tasks().claim(task.id, { owner: "daemon-a", agentId: "a1" })
    const r1 = await tasks().requeue(task.id, { reason: { code: "agent_died", message: "a1 exited with signal 9" } })
    expect(r1?.task).toMatchObject({ status: "pending", agentId: null, ownerDaemon: null, attempts: 1, error: null })
    expect(r1?.event).toMatchObject({ type: "requeued", data: { previousAgentId: "a1", previousOwner: "daemon-a", reason: { code: "agent_died" } } })
    expect(await tasks().requeue(task.id, { reason: { code: "x", message: "not running" } })).toBeUndefined()

    await tasks().claim(task.id, { owner: "daemon-a", agentId: "a2" })
    const r2 = await tasks().requeue(task.id, { reason: { code: "agent_died", message: "a2 exited" } })
    expect(r2?.task).toMatchObject({ status: "failed", attempts: 2, agentId: "a2" })
    expect(r2?.task.error).toMatchObject({ code: "attempts_exhausted", details: { lastError: { code: "agent_died", message: "a2 exited" } } })
    expect(r2?.task.error?.message).toContain("gave up after 2 attempts")
    expect(r2?.event.type).toBe("failed")
  })

  test("requeue with a delay keeps the task from claimNext until then, but not from claim by id", async () => {
    const { task } = await tasks().create({ description: "backoff" })
    await tasks().claim(task.id, by)
    await tasks().requeue(task.id, { reason: { code: "rate_limited", message: "429" }, delayMs: 60_000 })
    expect(await tasks().claimNext(by)).toBeUndefined()
    expect((await tasks().claim(task.id, by))?.task.status).toBe("running")
  })

  test("recoverOrphans: only this daemon's running tasks are requeued (or failed when out of attempts)", async () => {
    const mine = (await tasks().create({ description: "mine" })).task
    const mineLast = (await tasks().create({ description: "mine, last try", maxAttempts: 1 })).task
    const theirs = (await tasks().create({ description: "theirs" })).task
    const waiting = (await tasks().create({ description: "waiting" })).task
    await tasks().claim(mine.id, { owner: "daemon-a", agentId: "a1" })
    await tasks().claim(mineLast.id, { owner: "daemon-a", agentId: "a2" })
    await tasks().claim(theirs.id, { owner: "daemon-b", agentId: "b1" })

    const recovered = await tasks().recoverOrphans("daemon-a")
    const byId = new Map(recovered.map((t) => [t.task.id, t]))
    expect(recovered).toHaveLength(2)
    expect(byId.get(mine.id)?.task.status).toBe("pending")
    expect(byId.get(mine.id)?.event).toMatchObject({ type: "requeued", data: { reason: { code: "daemon_restarted" } } })
    expect(byId.get(mineLast.id)?.task).toMatchObject({ status: "failed", error: { code: "attempts_exhausted" } })
    expect((await tasks().get(theirs.id))?.status).toBe("running")
    expect((await tasks().get(waiting.id))?.status).toBe("pending")
    expect(await tasks().recoverOrphans("daemon-a")).toEqual([])
  })

  test("requeueRunning by agent: the tasks of an agent that died", async () => {
    const a = (await tasks().create({ description: "a" })).task
    const b = (await tasks().create({ description: "b" })).task
    await tasks().claim(a.id, { owner: "daemon-a", agentId: "dead" })
    await tasks().claim(b.id, { owner: "daemon-a", agentId: "alive" })
    const moved = await tasks().requeueRunning({ agentId: "dead" }, { reason: { code: "heartbeat_missed", message: "3 heartbeats missed" } })
    expect(moved.map((t) => t.task.id)).toEqual([a.id])
    expect((await tasks().get(b.id))?.status).toBe("running")
  })

  test("cancel: pending and running tasks; says what it was; a late result cannot overwrite it", async () => {
    const pending = (await tasks().create({ description: "p" })).task
    const c1 = await tasks().cancel(pending.id, "user asked")
    expect(c1).toMatchObject({ previousStatus: "pending", task: { status: "cancelled", error: { code: "cancelled", message: "user asked" } } })
    expect(c1?.event).toMatchObject({ type: "cancelled", data: { previousStatus: "pending", reason: "user asked" } })

    const running = (await tasks().create({ description: "r" })).task
    await tasks().claim(running.id, by)
    const c2 = await tasks().cancel(running.id)
    expect(c2).toMatchObject({ previousStatus: "running", task: { agentId: "backend-1" } })
    expect(await tasks().complete(running.id, "too late")).toBeUndefined()
    expect(await tasks().cancel(running.id)).toBeUndefined()
    expect(await tasks().cancel(crypto.randomUUID())).toBeUndefined()
    expect(await tasks().cancel("bad id")).toBeUndefined()
  })
})
