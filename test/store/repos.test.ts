import { expect, test } from "bun:test"
import { NotFoundError } from "../../src/errors"
import { agentRepo } from "../../src/store/agents"
import { daemonRepo } from "../../src/store/daemons"
import { DbError, PgCode, pgCode } from "../../src/store/sql"
import { repos } from "../../src/store/store"
import { eventRepo } from "../../src/store/task-events"
import { taskRepo } from "../../src/store/tasks"
import { eachEngine } from "../support/postgres"

// Events, agents, daemons, constraints and transactions, on both engines.

eachEngine((sql) => {
  test("events: append and read back after an id (SSE replay), per task and across tasks", async () => {
    const a = (await taskRepo(sql()).create({ description: "a" })).task
    const b = (await taskRepo(sql()).create({ description: "b" })).task
    const e1 = await eventRepo(sql()).append(a.id, "output", { text: "line 1" })
    const e2 = await eventRepo(sql()).append(b.id, "output", { text: "other" })
    const e3 = await eventRepo(sql()).append(a.id, "tool_use", { name: "Read" })
    expect(e3.id).toBeGreaterThan(e1.id)

    expect((await eventRepo(sql()).list(a.id)).map((e) => e.type)).toEqual(["created", "output", "tool_use"])
    const replay = await eventRepo(sql()).list(a.id, { afterId: e1.id })
    expect(replay.map((e) => e.data)).toEqual([{ name: "Read" }])
    expect(replay[0]).toMatchObject({ id: e3.id, taskId: a.id, type: "tool_use" })
    expect(typeof replay[0]!.id).toBe("number")

    const all = await eventRepo(sql()).listAll({ afterId: e1.id })
    expect(all.map((e) => e.id)).toEqual([e2.id, e3.id])
    expect((await eventRepo(sql()).listAll({ limit: 2 })).map((e) => e.type)).toEqual(["created", "created"])
    expect((await eventRepo(sql()).recent(1))[0]!.id).toBe(e3.id)
    expect(await eventRepo(sql()).list("bad id")).toEqual([])
  })

  test("events: appending to an unknown task is NotFoundError caused by 23503", async () => {
    const err = await eventRepo(sql())
      .append(crypto.randomUUID(), "output")
      .catch((e) => e)
    expect(err).toBeInstanceOf(NotFoundError)
    expect(pgCode(err.cause)).toBe(PgCode.foreignKeyViolation)
  })

  test("constraints surface as DbError with the SQLSTATE", async () => {
    const { task } = await taskRepo(sql()).create({ description: "x" })
    const dup = await sql()
      .query("INSERT INTO tasks (id, root_id, description) VALUES ($1, $1, 'dup')", [task.id])
      .catch((e) => e)
    expect(dup).toBeInstanceOf(DbError)
    expect(dup.code).toBe("23505")
    expect(dup.detail.constraint).toBe("tasks_pkey")
    const badStatus = await sql()
      .query("UPDATE tasks SET status = 'exploded' WHERE id = $1", [task.id])
      .catch((e) => e)
    expect(pgCode(badStatus)).toBe(PgCode.checkViolation)
    expect(pgCode(await sql().query("SELECT * FROM no_such_table").catch((e) => e))).toBe(PgCode.undefinedTable)
  })

  test("transactions commit together or not at all", async () => {
    const r = repos(sql())
    const kept = await sql().transaction(async (tx) => (await repos(tx).tasks.create({ description: "kept" })).task)
    const err = await sql()
      .transaction(async (tx) => {
        await repos(tx).tasks.create({ description: "rolled back" })
        throw new Error("abort")
      })
      .catch((e) => e)
    expect(err.message).toBe("abort")
    expect((await r.tasks.list()).items.map((t) => t.id)).toEqual([kept.id])
    const failing = await sql()
      .transaction(async (tx) => {
        await repos(tx).tasks.create({ description: "also rolled back" })
        await tx.query("SELECT 1/0")
      })
      .catch((e) => e)
    expect(pgCode(failing)).toBe("22012")
    expect(await r.tasks.counts()).toMatchObject({ pending: 1 })
  })

  test("a statement on the outer store inside its own transaction is refused at once (no hang on PGlite)", async () => {
    const err = await sql()
      .transaction(async () => {
        await sql().query("SELECT 1")
      })
      .catch((e) => e)
    expect(err.message).toContain("use the `tx`")
    const nested = await sql()
      .transaction(() => sql().transaction(async () => 1))
      .catch((e) => e)
    expect(nested.message).toContain("use the `tx`")
    expect(await sql().query("SELECT 1 AS one")).toEqual([{ one: 1 }]) // and the store still works

    // Work a transaction leaves behind runs after it ended, in its async context: allowed.
    let later!: Promise<unknown>
    await sql().transaction(async (tx) => {
      await tx.query("SELECT 1")
      later = new Promise((r) => setTimeout(r, 0)).then(() => sql().query("SELECT 2 AS two"))
    })
    expect(await later).toEqual([{ two: 2 }])
  })

  test("agents: upsert registers and updates only the given fields; markState and heartbeat", async () => {
    const agents = agentRepo(sql())
    const a = await agents.upsert({ id: "backend-1", role: "backend", daemonId: "daemon-a", pid: 100, workdir: "/w", metadata: { v: 1 } })
    expect(a).toMatchObject({ id: "backend-1", role: "backend", driver: "stream", status: "starting", pid: 100, workdir: "/w", restarts: 0, metadata: { v: 1 } })
    expect(a.startedAt).toBeInstanceOf(Date)

    const b = await agents.upsert({ id: "backend-1", role: "backend", status: "idle", pid: 101 })
    expect(b).toMatchObject({ status: "idle", pid: 101, workdir: "/w", daemonId: "daemon-a" })

    const { task } = await taskRepo(sql()).create({ description: "t" })
    const busy = await agents.markState("backend-1", "busy", { currentTaskId: task.id, sessionId: "s1" })
    expect(busy).toMatchObject({ status: "busy", currentTaskId: task.id, sessionId: "s1", pid: 101 })
    const crashed = await agents.markState("backend-1", "crashed", { currentTaskId: null, pid: null, restarted: true })
    expect(crashed).toMatchObject({ status: "crashed", currentTaskId: null, pid: null, restarts: 1, sessionId: "s1" })
    expect(crashed!.stoppedAt).toBeInstanceOf(Date)
    expect((await agents.markState("backend-1", "idle"))!.stoppedAt).toBeNull()
    expect(await agents.markState("nobody", "idle")).toBeUndefined()

    expect(await agents.heartbeat("backend-1")).toBe(true)
    expect((await agents.get("backend-1"))!.lastHeartbeatAt).toBeInstanceOf(Date)
    expect(await agents.heartbeat("nobody")).toBe(false)
  })

  test("agents: list filters, and stopAllOf stops what a dead daemon supervised", async () => {
    const agents = agentRepo(sql())
    await agents.upsert({ id: "a1", role: "backend", status: "idle", daemonId: "daemon-a" })
    await agents.upsert({ id: "a2", role: "qa", status: "busy", daemonId: "daemon-a" })
    await agents.upsert({ id: "b1", role: "backend", status: "idle", daemonId: "daemon-b" })
    expect((await agents.list({ role: "backend" })).map((a) => a.id)).toEqual(["a1", "b1"])
    expect((await agents.list({ status: ["busy"] })).map((a) => a.id)).toEqual(["a2"])
    expect((await agents.list({ daemonId: "daemon-b" })).map((a) => a.id)).toEqual(["b1"])

    const stopped = await agents.stopAllOf("daemon-a")
    expect(stopped.map((a) => a.id).sort()).toEqual(["a1", "a2"])
    expect((await agents.list({ status: "stopped" })).map((a) => a.id)).toEqual(["a1", "a2"])
    expect((await agents.get("b1"))!.status).toBe("idle")
    expect(await agents.remove("b1")).toBe(true)
    expect(await agents.get("b1")).toBeUndefined()
  })

  test("daemons: register, re-register on restart, stop", async () => {
    const daemons = daemonRepo(sql())
    const first = await daemons.register({ id: "host-1234abcd", host: "host", pid: 10, version: "0.1.0" })
    expect(first).toMatchObject({ id: "host-1234abcd", host: "host", pid: 10, version: "0.1.0", stoppedAt: null })
    await daemons.stopped(first.id)
    expect((await daemons.list())[0]!.stoppedAt).toBeInstanceOf(Date)
    const again = await daemons.register({ id: "host-1234abcd", host: "host", pid: 11 })
    expect(again).toMatchObject({ pid: 11, stoppedAt: null })
    expect(await daemons.list()).toHaveLength(1)
  })

  test("daemons: a lease runs out by the database's clock; adoption marks each dead daemon once and requeues its tasks", async () => {
    const r = repos(sql())
    await r.daemons.register({ id: "alive", leaseMs: 60_000 })
    await r.daemons.register({ id: "dead", leaseMs: 60_000 })
    await r.agents.upsert({ id: "far-1", role: "backend", driver: "remote", daemonId: "dead" })
    await r.agents.upsert({ id: "near-1", role: "backend", driver: "stream", daemonId: "dead" })
    const far = (await r.tasks.create({ description: "on a remote worker" })).task
    const near = (await r.tasks.create({ description: "on a local agent" })).task
    const spent = (await r.tasks.create({ description: "last attempt", maxAttempts: 1 })).task
    await r.tasks.claim(far.id, { owner: "dead", agentId: "far-1" })
    await r.tasks.claim(near.id, { owner: "dead", agentId: "near-1" })
    await r.tasks.claim(spent.id, { owner: "dead", agentId: "near-1" })
    expect(await r.daemons.adoptExpired("alive")).toEqual([]) // nobody's lease ran out
    expect((await r.daemons.renew("dead", { leaseMs: 1 })).held).toBe(true)
    await sql().query("SELECT pg_sleep(0.01)")
    expect((await r.daemons.get("dead"))!.expired).toBe(true)
    expect(await r.daemons.adoptExpired("alive")).toEqual(["dead"])
    expect(await r.daemons.adoptExpired("third")).toEqual([]) // taken once
    expect(await r.daemons.get("dead")).toMatchObject({ adoptedBy: "alive", expired: true })
    expect((await r.daemons.renew("dead", { leaseMs: 60_000 })).held).toBe(false) // it finds out it was adopted
    const moved = await r.tasks.adoptOrphans("dead", { reason: { code: "daemon_lost", message: "gone" }, remoteDelayMs: 60_000 })
    const byId = new Map(moved.map((t) => [t.task.id, t]))
    expect(byId.get(far.id)!.task.status).toBe("pending")
    expect(byId.get(far.id)!.task.availableAt.getTime()).toBeGreaterThan(Date.now() + 30_000) // waits for its worker
    expect(byId.get(near.id)!.task.availableAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000)
    expect(byId.get(spent.id)!.task).toMatchObject({ status: "failed", error: { code: "attempts_exhausted" } })
    expect(byId.get(near.id)!.event.data).toMatchObject({ previousOwner: "dead", previousAgentId: "near-1", reason: { code: "daemon_lost" } })
    // Claimable by others: only the local one now; the remote one only by id (its worker claiming it back).
    expect((await r.tasks.listClaimable()).map((t) => t.id)).toEqual([near.id])
    expect((await r.tasks.claim(far.id, { owner: "alive", agentId: "far-1" }))?.task.attempts).toBe(2)
    // Registering again clears the adoption.
    expect(await r.daemons.register({ id: "dead", leaseMs: 60_000 })).toMatchObject({ adoptedBy: null, adoptedAt: null, expired: false })
  })

  test("tasks: handover moves a running task to the agent's new daemon without it ever being pending, fencing the old attempt", async () => {
    const r = repos(sql())
    const t = (await r.tasks.create({ description: "keep running" })).task
    const first = (await r.tasks.claim(t.id, { owner: "a", agentId: "w-1" }))!
    expect(await r.tasks.handover(t.id, { owner: "b", agentId: "someone-else" })).toBeUndefined()
    const moved = (await r.tasks.handover(t.id, { owner: "b", agentId: "w-1" }))!
    expect(moved.task).toMatchObject({ status: "running", ownerDaemon: "b", agentId: "w-1", attempts: 2 })
    expect(moved.event).toMatchObject({ type: "claimed", data: { handover: true, previousOwner: "a", owner: "b", attempt: 2 } })
    expect(await r.tasks.handover(t.id, { owner: "b", agentId: "w-1" })).toBeUndefined() // already b's
    // The old owner's late moves are fenced by the attempt it held.
    expect(await r.tasks.requeue(t.id, { reason: { code: "agent_disconnected", message: "x" }, attempt: first.task.attempts })).toBeUndefined()
    expect(await r.tasks.complete(t.id, "late", { attempt: first.task.attempts })).toBeUndefined()
    expect((await r.tasks.complete(t.id, "done", { attempt: moved.task.attempts }))?.task.status).toBe("completed")
  })

  test("pgvector: cosine nearest-neighbour queries over patterns; success_rate is generated", async () => {
    const vec = (hot: number) => `[${Array.from({ length: 768 }, (_, i) => (i === hot ? 1 : i === hot + 1 ? 0.1 : 0)).join(",")}]`
    for (const [i, hot] of [0, 10, 20].entries()) {
      await sql().query("INSERT INTO patterns (content, content_hash, embedding, embedding_model, embedding_dim, success_count, failure_count) VALUES ($1, $2, $3::vector, 'test', 768, $4, 1)", [
        `pattern ${hot}`,
        `h${hot}`,
        vec(hot),
        i,
      ])
    }
    const rows = await sql().query<{ content: string; success_rate: number | null }>(
      "SELECT content, success_rate FROM patterns ORDER BY embedding <=> $1::vector LIMIT 2",
      [vec(10)],
    )
    expect(rows.map((r) => r.content)).toEqual(["pattern 10", expect.any(String)])
    expect(rows[0]!.success_rate).toBeCloseTo(0.5) // generated: 1 success, 1 failure
    // the per-space HNSW indexes are made by src/store/vectors.ts (test/store/vectors.test.ts checks the planner uses them)
  })
})
