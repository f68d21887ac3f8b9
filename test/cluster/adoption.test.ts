import { afterAll, beforeAll, expect, test } from "bun:test"
import { hostname } from "node:os"
import { ManualClock } from "../../src/acp/clock"
import { ConfigError } from "../../src/errors"
import { checkDaemonId } from "../../src/orchestrator/cluster"
import type { TaskEventJson } from "../../src/orchestrator/events"
import { createDatabase, startPostgres, type PostgresServer } from "../support/postgres"
import { signal, taskEvent, testDaemon, type TestDaemon } from "../daemon/harness"

// Leases and adoption between daemons in this process, on a real PostgreSQL.
// Renewals run on manual clocks (each daemon renews when the test ticks it);
// a lease "runs out" by moving it into the past in the database, whose clock
// is the one leases are judged by.

// Leases far longer than the test: none runs out by itself while the manual clocks stand still.
const LEASE_S = 3600
let pg: PostgresServer
let url: string
let a: TestDaemon
let b: TestDaemon
let c: TestDaemon
const clocks = { a: new ManualClock(0), b: new ManualClock(0), c: new ManualClock(0) }

beforeAll(async () => {
  pg = await startPostgres()
  url = await createDatabase(pg, "adoption")
  const sections = { postgres: { url, pool: 3 }, cluster: { lease_s: LEASE_S, renew_s: 1000, worker_grace_s: 0 } }
  a = await testDaemon(sections, { clusterClock: clocks.a })
  b = await testDaemon(sections, { clusterClock: clocks.b })
  c = await testDaemon(sections, { clusterClock: clocks.c })
}, 120_000)
afterAll(async () => {
  for (const t of [a, b, c]) await t?.[Symbol.asyncDispose]()
  await pg?.close()
})

/** Renew `t` in steps of under half a lease until it has held its lease a whole lease (then it may adopt). */
async function settle(t: TestDaemon, clock: ManualClock): Promise<void> {
  for (let i = 0; i < 4; i++) {
    clock.advance(1000_000)
    await t.daemon.ctx.cluster!.tick()
  }
}

const expire = (t: TestDaemon) => t.daemon.ctx.store.sql.query("UPDATE daemons SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [t.daemon.daemonId])

test("a daemon whose lease ran out is adopted by exactly one of two daemons ticking at once; its task is requeued once and runs elsewhere", async () => {
  const offered = signal<string>()
  const onA = await a.agent("adopt-a1", "adopt", { taskAssign: (p) => (offered.resolve(p.taskId), { accepted: true }) })
  const id = (await a.json("POST", "/api/v1/tasks", { description: "outlive my daemon", role: "adopt" })).body.id as string
  await offered.promise
  await taskEvent(a, id, "accepted")
  await settle(b, clocks.b)
  await settle(c, clocks.c)
  // A stops renewing (paused, cut off): its lease runs out. B and C look at once.
  await expire(a)
  await Promise.all([b.daemon.ctx.cluster!.tick(), c.daemon.ctx.cluster!.tick()])
  const adopters = [...b.daemon.ctx.cluster!.adoptions(), ...c.daemon.ctx.cluster!.adoptions()].filter((x) => x.daemonId === a.daemon.daemonId)
  expect(adopters).toHaveLength(1)
  expect(adopters[0]).toMatchObject({ requeued: 1, failed: 0 })
  expect(await b.daemon.ctx.store.daemons.get(a.daemon.daemonId)).toMatchObject({ adoptedBy: adopters[0]!.by, expired: true })
  const requeued = (await b.daemon.ctx.store.events.list(id)).filter((e) => e.type === "requeued")
  expect(requeued).toHaveLength(1)
  expect(requeued[0]!.data).toMatchObject({ reason: { code: "daemon_lost" }, previousOwner: a.daemon.daemonId, previousAgentId: "adopt-a1" })
  // Another daemon's agent takes it.
  const taken = signal<string>()
  const onC = await c.agent("adopt-c1", "adopt", { taskAssign: (p) => (taken.resolve(p.taskId), { accepted: true }) })
  expect(await taken.promise).toBe(id)
  await taskEvent(c, id, "accepted")
  const completed = taskEvent(c, id, "completed")
  await onC.result({ taskId: id, status: "completed", output: "adopted and done" })
  await completed
  expect((await c.json("GET", `/api/v1/tasks/${id}`)).body).toMatchObject({ status: "completed", ownerDaemon: c.daemon.daemonId, agentId: "adopt-c1", attempts: 2 })
  // A's agent going away now changes nothing (A's requeue is fenced by the attempt it held).
  await onA.close()
  await onC.close()
  await a.daemon.ctx.cluster!.tick() // A finds it was adopted and rejoins
  expect((await c.daemon.ctx.store.events.list(id)).map((e) => e.type)).toEqual(["created", "claimed", "accepted", "requeued", "claimed", "accepted", "completed"])
})

test("an adopted daemon finds out at its next renewal: it drops the task it was running (its agent is told) and joins again", async () => {
  const cancelled = signal<string>()
  const offered = signal<string>()
  let offers = 0
  const onA = await a.agent("fenced-a1", "fenced", {
    // The first offer only: after the adoption it must not simply be given the task again.
    taskAssign: (p) => (offered.resolve(p.taskId), ++offers === 1 ? { accepted: true } : { accepted: false, reason: "test: once" }),
    taskCancel: (p) => cancelled.resolve(p.taskId),
  })
  const id = (await a.json("POST", "/api/v1/tasks", { description: "taken from under me", role: "fenced" })).body.id as string
  await offered.promise
  await taskEvent(a, id, "accepted")
  expect(a.daemon.ctx.orchestrator.inFlight).toBe(1)
  await expire(a)
  await settle(b, clocks.b)
  expect(b.daemon.ctx.cluster!.adoptions().at(-1)).toMatchObject({ daemonId: a.daemon.daemonId, requeued: 1 })
  // The task is pending again (no other agent of its role); A still believes it runs it, until it renews.
  expect((await b.json("GET", `/api/v1/tasks/${id}`)).body.status).toBe("pending")
  const refused = taskEvent(a, id, "requeued") // rejoined, A offers the pending task to its idle agent again; the agent refuses
  await a.daemon.ctx.cluster!.tick()
  expect(await cancelled.promise).toBe(id)
  expect((await refused).data.reason).toMatchObject({ code: "agent_refused" })
  expect(a.daemon.ctx.orchestrator.inFlight).toBe(0)
  const me = await a.daemon.ctx.store.daemons.get(a.daemon.daemonId)
  expect(me).toMatchObject({ adoptedBy: null, expired: false, stoppedAt: null }) // a fresh lease
  // A late result of the agent's old attempt changes nothing.
  expect(await onA.result({ taskId: id, status: "completed", output: "too late" }).catch((e: unknown) => e)).toBeDefined()
  expect((await b.json("GET", `/api/v1/tasks/${id}`)).body).toMatchObject({ status: "pending", result: null })
  await onA.close()
  await a.json("POST", `/api/v1/tasks/${id}/cancel`)
})

test("a daemon id held by a live daemon elsewhere is refused; a dead predecessor's is taken over", async () => {
  const store = a.daemon.ctx.store
  await store.daemons.register({ id: "held-elsewhere", host: "other-host", pid: 4242, leaseMs: 60_000 })
  const err = await checkDaemonId(store, "held-elsewhere").catch((e: unknown) => e)
  expect(err).toBeInstanceOf(ConfigError)
  expect((err as InstanceType<typeof ConfigError>).message).toContain("held by a running daemon (host other-host, pid 4242")
  expect((err as InstanceType<typeof ConfigError>).hint).toContain("daemon.id")
  // Same host, its process gone (SIGKILL, then a restart): allowed.
  await store.daemons.register({ id: "killed-here", host: hostname(), pid: 2 ** 22 + 17, leaseMs: 60_000 })
  expect(await checkDaemonId(store, "killed-here")).toBeUndefined()
  // Elsewhere but its lease ran out: allowed.
  await store.daemons.register({ id: "expired-elsewhere", host: "other-host", pid: 1, leaseMs: 1 })
  await store.sql.query("SELECT pg_sleep(0.01)")
  expect(await checkDaemonId(store, "expired-elsewhere")).toBeUndefined()
  await store.sql.query("DELETE FROM daemons WHERE id = ANY($1)", [["held-elsewhere", "killed-here", "expired-elsewhere"]])
})
