import { afterAll, beforeAll, expect, test } from "bun:test"
import { AcpClient } from "../../src/acp/client"
import type { TaskAssignParams } from "../../src/acp/protocol"
import { generateKey } from "../../src/config/keys"
import { cli } from "../support/cli"
import { createDatabase, startPostgres, type PostgresServer } from "../support/postgres"
import { startRedis, type RedisServer } from "../support/redis"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { api, homeEnv, startDaemonProcess, type DaemonProcess } from "../e2e/daemon-process"

// Two daemon processes (the compiled binary) on one real PostgreSQL and one
// Redis; one is SIGKILLed mid-task. A worker agent given both daemons' URLs
// fails over to the survivor, which takes its running task over (it never
// goes back to the queue: it runs once) and records its result. The dead
// daemon's lease runs out and the survivor adopts it: the task of an agent
// that did not come back is requeued, waits the worker grace, and runs on
// another agent. `cca status` shows the dead daemon as adopted.

let pg: PostgresServer
let redis: RedisServer
let tmp: TmpDir
let a: DaemonProcess
let b: DaemonProcess
const { key, hash } = generateKey()
const clients: AcpClient[] = []

async function daemon(id: string, url: string): Promise<DaemonProcess> {
  const env = homeEnv(`${tmp.path}/${id}`, {
    CCA__POSTGRES__URL: url,
    CCA__POSTGRES__POOL: "3",
    CCA__REDIS__URL: redis.url,
    CCA__DAEMON__ID: id,
    CCA__DAEMON__API_KEYS: JSON.stringify([hash]),
    CCA__CLUSTER__LEASE_S: "2",
    CCA__CLUSTER__RENEW_S: "0.5",
    CCA__CLUSTER__WORKER_GRACE_S: "3",
  })
  return startDaemonProcess(env)
}

beforeAll(async () => {
  tmp = await tmpdir({ prefix: "cca-failover-" })
  ;[pg, redis] = await Promise.all([startPostgres(), startRedis()])
  const url = await createDatabase(pg, "failover")
  a = await daemon("daemon-a", url)
  b = await daemon("daemon-b", url)
}, 180_000)
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {})
  for (const d of [a, b]) {
    d?.proc.kill("SIGTERM")
    await d?.exited
  }
  await Promise.all([pg?.close(), redis?.close()])
  await tmp?.[Symbol.asyncDispose]()
})

function agent(agentId: string, role: string, urls: string[], onTask: (p: TaskAssignParams) => void, handlers: { registered?: (again: boolean) => void } = {}): AcpClient {
  const c = new AcpClient({
    url: urls,
    apiKey: key,
    agent: { agentId, role },
    reconnect: urls.length > 1 ? { initialDelayMs: 50, maxDelayMs: 300, jitter: 0 } : false,
    handlers: { taskAssign: (p) => (onTask(p), { accepted: true }), registered: (_r, again) => handlers.registered?.(again) },
  })
  clients.push(c)
  return c
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

/** The events of a task's SSE stream on `d` up to (and including) the first of `type`. */
async function eventsUntil(d: DaemonProcess, id: string, type: string, after = 0): Promise<{ id: number; type: string; data: Record<string, any> }[]> {
  const res = await fetch(`${d.ready.http}/api/v1/tasks/${id}/events${after ? `?after=${after}` : ""}`, { headers: { authorization: `Bearer ${key}` } })
  const reader = res.body!.getReader()
  let text = ""
  const out: { id: number; type: string; data: Record<string, any> }[] = []
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    text += new TextDecoder().decode(value)
    let cut: number
    while ((cut = text.indexOf("\n\n")) >= 0) {
      const block = text.slice(0, cut)
      text = text.slice(cut + 2)
      if (!block.startsWith("id: ")) continue
      const e = JSON.parse(block.slice(block.indexOf("data: ") + 6))
      out.push({ id: e.id, type: e.type, data: e.data })
      if (e.type === type) {
        await reader.cancel()
        return out
      }
    }
  }
  throw new Error(`the stream of ${id} ended without ${type}: ${out.map((e) => e.type).join(", ")}`)
}

test("SIGKILL of a daemon: its worker's running task is handed over and runs once; its lease runs out and its other task is adopted", async () => {
  const offers = new Map<string, string[]>()
  const offered = (agentId: string) => (p: TaskAssignParams) => offers.set(p.taskId, [...(offers.get(p.taskId) ?? []), agentId])
  let failedOver!: () => void
  const back = new Promise<void>((r) => (failedOver = r))
  const w = agent("fo-w1", "fo", [a.ready.acp, b.ready.acp], offered("fo-w1"), { registered: (again) => again && failedOver() })
  const x = agent("fo-x1", "fo-x", [a.ready.acp], offered("fo-x1")) // no failover: it dies with daemon A
  await w.connect()
  await x.connect()
  expect(w.url).toBe(a.ready.acp)
  const B = api(b.ready, key)

  // Both tasks are created on B; A claims them (its agents are the only ones).
  const t = ((await (await B("POST", "/api/v1/tasks", { description: "survive the daemon", role: "fo" })).json()) as any).id as string
  const v = ((await (await B("POST", "/api/v1/tasks", { description: "lose the worker too", role: "fo-x" })).json()) as any).id as string
  const before = await within(eventsUntil(b, t, "accepted"), 15_000, "T accepted (heard on B)")
  await within(eventsUntil(b, v, "accepted"), 15_000, "V accepted")
  expect(before.find((e) => e.type === "claimed")!.data).toMatchObject({ owner: "daemon-a", agentId: "fo-w1" })

  const killedAt = Date.now()
  a.proc.kill("SIGKILL")
  expect(await a.exited).toBe(137)

  // W fails over to B and brings T: B takes it over at once, without requeueing it.
  await within(back, 15_000, "W registered at B")
  expect(w.url).toBe(b.ready.acp)
  const moved = (await (await B("GET", `/api/v1/tasks/${t}`)).json()) as any
  expect(moved).toMatchObject({ status: "running", ownerDaemon: "daemon-b", agentId: "fo-w1", attempts: 2 })
  expect(await w.result({ taskId: t, status: "completed", output: "done once" })).toEqual({ recorded: true })
  const rest = await within(eventsUntil(b, t, "completed", before.at(-1)!.id), 15_000, "T completed")
  expect(rest.map((e) => e.type)).toEqual(["claimed", "completed"]) // replayed from after `accepted`: no requeue in between
  expect(rest[0]!.data).toMatchObject({ handover: true, previousOwner: "daemon-a", owner: "daemon-b" })
  expect(offers.get(t)).toEqual(["fo-w1"]) // offered once, run once

  // A's lease runs out; B adopts A: V (its agent gone with A) is requeued and waits the worker grace.
  const requeued = (await within(eventsUntil(b, v, "requeued"), 20_000, "V requeued by the adoption")).at(-1)!
  expect(Date.now() - killedAt).toBeGreaterThanOrEqual(2000 - 500) // not before the lease (2 s, renewed every 0.5 s) ran out
  expect(requeued.data).toMatchObject({ reason: { code: "daemon_lost" }, previousOwner: "daemon-a", previousAgentId: "fo-x1" })
  const x2 = agent("fo-x2", "fo-x", [b.ready.acp], offered("fo-x2"))
  await x2.connect()
  await within(eventsUntil(b, v, "accepted", requeued.id), 15_000, "V taken by another agent after the grace")
  expect(offers.get(v)).toEqual(["fo-x1", "fo-x2"])
  await x2.result({ taskId: v, status: "completed", output: "second agent" })

  // The cluster as B sees it, and as `cca status` prints it.
  const status = (await (await B("GET", "/api/v1/status")).json()) as any
  const rows = new Map<string, any>(status.cluster.daemons.map((d: { id: string }) => [d.id, d]))
  expect(rows.get("daemon-a")).toMatchObject({ state: "adopted", adoptedBy: "daemon-b" })
  expect(rows.get("daemon-b")).toMatchObject({ state: "alive", self: true, events: "redis" })
  expect(status.cluster.adoptions).toMatchObject([{ daemonId: "daemon-a", by: "daemon-b", requeued: 1, failed: 0 }])
  expect(Date.parse(status.cluster.adoptions[0].at)).toBeGreaterThanOrEqual(Date.parse(rows.get("daemon-a").leaseExpiresAt)) // adopted only once its lease had run out
  const shown = await cli(["status"], { name: "cca", env: { HOME: tmp.path, CCA_DAEMON_URL: b.ready.http, CCA_API_KEY: key } })
  expect(shown.code).toBe(0)
  expect(shown.stdout).toMatch(/daemon-a\s+\S+\s+adopted\s+adopted by daemon-b/)
  expect(shown.stdout).toMatch(/daemon-b \*\s+\S+\s+alive/)
}, 120_000)
