import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Redis } from "ioredis"
import { createDatabase, startPostgres, type PostgresServer } from "../support/postgres"
import { startRedis, type RedisServer } from "../support/redis"
import { signal, taskEvent, testDaemon, type TestDaemon } from "../daemon/harness"

// Task events across daemons on one real PostgreSQL (Debian's, no pgvector):
// over LISTEN/NOTIFY when there is no Redis; over Redis when there is, and
// over the database again while Redis is away (for everyone, or for one
// daemon only). A task created on one daemon runs on another's agent, and
// the first daemon's SSE stream follows it to the end, replaying from
// Last-Event-ID.

let pg: PostgresServer
let redis: RedisServer
beforeAll(async () => {
  ;[pg, redis] = await Promise.all([startPostgres(), startRedis()])
}, 120_000)
afterAll(async () => {
  await Promise.all([pg?.close(), redis?.close()])
})

const fast = { lease_s: 2, renew_s: 0.2 }

type Sse = { id: number; type: string; data: { taskId: string; type: string; data: Record<string, unknown> } }

/** Read a task's SSE stream from `t` until it ends (after the final event). */
async function stream(t: TestDaemon, id: string, lastEventId?: number): Promise<Sse[]> {
  const res = await t.req("GET", `/api/v1/tasks/${id}/events`, { headers: lastEventId === undefined ? {} : { "last-event-id": String(lastEventId) } })
  expect(res.status).toBe(200)
  const text = await res.text() // the stream closes after completed, failed or cancelled
  return text
    .split("\n\n")
    .filter((b) => b.startsWith("id: "))
    .map((b) => {
      const lines = Object.fromEntries(b.split("\n").map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]))
      return { id: Number(lines.id), type: lines.event!, data: JSON.parse(lines.data!) }
    })
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** The daemon's state store reaching `want` (now, or on its next change of health). */
function health(t: TestDaemon, want: "ok" | "degraded", ms = 15_000): Promise<void> {
  const state = t.daemon.ctx.state
  if (state.health().state === want) return Promise.resolve()
  return within(
    new Promise<void>((resolve) => {
      const off = state.onHealth((h) => {
        if (h.state !== want) return
        off()
        resolve()
      })
    }),
    ms,
    `state ${want}`,
  )
}

describe("without Redis: LISTEN/NOTIFY", () => {
  let a: TestDaemon
  let b: TestDaemon
  beforeAll(async () => {
    const url = await createDatabase(pg, "events_notify")
    a = await testDaemon({ postgres: { url, pool: 3 }, cluster: fast })
    b = await testDaemon({ postgres: { url, pool: 3 }, cluster: fast })
  }, 60_000)
  afterAll(async () => {
    await a?.[Symbol.asyncDispose]()
    await b?.[Symbol.asyncDispose]()
  })

  test("a task created on A runs on B's agent; A's SSE stream follows it to the end and replays from Last-Event-ID", async () => {
    const offered = signal<string>()
    const w = await b.agent("notify-w1", "ev", { taskAssign: (p) => (offered.resolve(p.taskId), { accepted: true }) })
    const created = await a.json("POST", "/api/v1/tasks", { description: "cross the daemons", role: "ev" })
    expect(created.status).toBe(202)
    const id = created.body.id as string
    expect(await within(offered.promise, 10_000, "B's agent offered the task")).toBe(id)
    await taskEvent(a, id, "accepted") // B's event, heard on A through the database
    const live = stream(a, id)
    const big = "x".repeat(20_000) // over NOTIFY's 8000-byte payload: travels by reference
    const progress = taskEvent(a, id, "progress")
    w.progress({ taskId: id, percent: 50, message: "half", data: { big } })
    expect((await progress).data.big).toBe(big)
    await w.result({ taskId: id, status: "completed", output: "crossed" })
    const events = await within(live, 10_000, "A's stream to end")
    expect(events.map((e) => e.type)).toEqual(["created", "claimed", "accepted", "progress", "completed"])
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((x, y) => x - y))
    expect(events[1]!.data.data).toMatchObject({ owner: b.daemon.daemonId, agentId: "notify-w1" })
    const replay = await stream(a, id, events[2]!.id)
    expect(replay.map((e) => e.type)).toEqual(["progress", "completed"])
    expect((await a.json("GET", `/api/v1/tasks/${id}`)).body).toMatchObject({ status: "completed", result: "crossed", attempts: 1 })
    await w.close()
  })

  test("status shows the cluster: both daemons alive, agents per daemon, events through the database", async () => {
    const w = await b.agent("notify-w2", "idle-role")
    await b.daemon.ctx.cluster!.tick()
    const s = (await a.json("GET", "/api/v1/status")).body
    expect(s.state.events).toBe("database")
    expect(s.cluster.events).toBe("database")
    const rows = new Map<string, { state: string; agents: number; busyAgents: number; self: boolean; events: string }>(s.cluster.daemons.map((d: { id: string }) => [d.id, d]))
    expect(rows.get(a.daemon.daemonId)).toMatchObject({ state: "alive", self: true, events: "database", agents: 0 })
    expect(rows.get(b.daemon.daemonId)).toMatchObject({ state: "alive", self: false, busyAgents: 0 })
    expect(rows.get(b.daemon.daemonId)!.agents).toBeGreaterThanOrEqual(1) // the first test's agent may not be marked disconnected yet
    await w.close()
  })
})

describe("Redis, and the database while Redis is away", () => {
  let a: TestDaemon
  let b: TestDaemon
  let admin: Redis
  beforeAll(async () => {
    const url = await createDatabase(pg, "events_redis")
    admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(100 * n, 500) })
    admin.on("error", () => {})
    await admin.connect()
    // B connects as its own Redis user, so that it alone can be cut off.
    await admin.call("ACL", "SETUSER", "daemon-b", "on", ">b-secret", "~*", "&*", "+@all")
    const bUrl = redis.url.replace("redis://", "redis://daemon-b:b-secret@")
    a = await testDaemon({ postgres: { url, pool: 3 }, redis: { url: redis.url }, cluster: fast })
    b = await testDaemon({ postgres: { url, pool: 3 }, redis: { url: bUrl }, cluster: fast })
  }, 60_000)
  afterAll(async () => {
    await a?.[Symbol.asyncDispose]()
    await b?.[Symbol.asyncDispose]()
    admin?.disconnect()
  })

  /** A task created on A, run by B's agent; A's SSE stream of it. Also checks that B heard A's `created` event on its bus. */
  async function runAcross(role: string, agentId: string): Promise<string[]> {
    const offered = signal<string>()
    const heard = new Set<string>()
    const accepted = new Map<string, () => void>()
    const acceptedOnA = new Set<string>()
    const off = b.daemon.ctx.orchestrator.bus.on("*", (e) => e.type === "created" && heard.add(e.taskId))
    const offA = a.daemon.ctx.orchestrator.bus.on("*", (e) => e.type === "accepted" && (acceptedOnA.add(e.taskId), accepted.get(e.taskId)?.()))
    const w = await b.agent(agentId, role, { taskAssign: (p) => (offered.resolve(p.taskId), { accepted: true }) })
    const id = (await a.json("POST", "/api/v1/tasks", { description: `via ${role}`, role })).body.id as string
    await within(offered.promise, 10_000, "B's agent offered the task")
    off()
    expect(heard.has(id)).toBe(true) // A's event reached B (not only B's own polling of the queue)
    if (!acceptedOnA.has(id)) await within(new Promise<void>((r) => accepted.set(id, r)), 10_000, "B's accepted event on A")
    offA()
    const live = stream(a, id)
    await w.result({ taskId: id, status: "completed", output: "ok" })
    const types = (await within(live, 10_000, "A's stream to end")).map((e) => e.type)
    await w.close()
    return types
  }

  test("events go through Redis while it answers", async () => {
    expect(a.daemon.ctx.state.health()).toMatchObject({ backend: "redis", state: "ok", events: "redis" })
    expect(await runAcross("via-redis", "redis-w1")).toEqual(["created", "claimed", "accepted", "completed"])
  })

  test("Redis gone for everyone: events go through the database, and back through Redis when it returns", async () => {
    await redis.stop()
    await Promise.all([health(a, "degraded"), health(b, "degraded")])
    expect(a.daemon.ctx.state.health().events).toBe("database")
    expect(b.daemon.ctx.state.health().events).toBe("database")
    expect(await runAcross("via-db", "db-w1")).toEqual(["created", "claimed", "accepted", "completed"])
    await redis.start()
    await admin.call("ACL", "SETUSER", "daemon-b", "on", ">b-secret", "~*", "&*", "+@all") // a fresh server: no users yet
    await Promise.all([health(a, "ok"), health(b, "ok")])
    expect([a.daemon.ctx.state.health().events, b.daemon.ctx.state.health().events]).toEqual(["redis", "redis"])
    expect(await runAcross("via-redis-again", "redis-w2")).toEqual(["created", "claimed", "accepted", "completed"])
  })

  test("one daemon cut off from Redis: it publishes on the database, the others bridge onto it, so it still hears them", async () => {
    await admin.call("ACL", "SETUSER", "daemon-b", "off")
    await admin.call("CLIENT", "KILL", "USER", "daemon-b")
    await health(b, "degraded")
    expect(b.daemon.ctx.state.health().events).toBe("database")
    expect(a.daemon.ctx.state.health().events).toBe("redis")
    await b.daemon.ctx.cluster!.tick() // B reports events = database in its lease row
    await a.daemon.ctx.cluster!.tick() // A reads it and bridges
    // A's task events (created) reach B only through the bridge; B's (claimed, ...) reach A through the database.
    expect(await runAcross("cut-off", "cut-w1")).toEqual(["created", "claimed", "accepted", "completed"])
    await admin.call("ACL", "SETUSER", "daemon-b", "on")
    await health(b, "ok")
    await b.daemon.ctx.cluster!.tick()
    await a.daemon.ctx.cluster!.tick()
    expect(a.daemon.ctx.state.health().events).toBe("redis")
  })
})
