import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "bun:test"
import { Redis } from "ioredis"
import { openRedisState, type RedisState } from "../../src/state/redis"
import { openState } from "../../src/state/state"
import { Channels, Keys, type StateHealth, type StateStore } from "../../src/state/types"
import { startRedis, type RedisServer } from "../support/redis"
import { nextMessage } from "./behaviour"

// What only the Redis store does: real TTLs and key names, several daemons
// sharing one picture, and surviving Redis going away and coming back.
// A real redis-server, stopped and restarted by the tests.

let redis: RedisServer
let admin: Redis
const open: StateStore[] = []

function recorder() {
  const lines: { level: string; text: string }[] = []
  return {
    lines,
    log: {
      warn: (...a: unknown[]) => void lines.push({ level: "warn", text: a.join(" ") }),
      info: (...a: unknown[]) => void lines.push({ level: "info", text: a.join(" ") }),
      debug: () => {},
    },
  }
}

async function state(log = recorder().log): Promise<RedisState> {
  const s = await openRedisState({ url: redis.url, log, probeMs: 100 })
  open.push(s)
  return s
}

function waitForHealth(store: StateStore, want: StateHealth["state"], timeoutMs = 10_000): Promise<StateHealth> {
  if (store.health().state === want) return Promise.resolve(store.health())
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`health did not become ${want} within ${timeoutMs} ms (is ${JSON.stringify(store.health())})`))
    }, timeoutMs)
    const off = store.onHealth((h) => {
      if (h.state !== want) return
      clearTimeout(timer)
      off()
      resolve(h)
    })
  })
}

beforeAll(async () => {
  redis = await startRedis()
  admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(100 * n, 500) })
  admin.on("error", () => {})
  await admin.connect()
})
beforeEach(async () => {
  await admin.flushall()
})
afterEach(async () => {
  for (const s of open.splice(0)) await s.close()
})
afterAll(async () => {
  admin.disconnect()
  await redis.close()
})

test("keys are the documented ones, and TTLs are real Redis TTLs refreshed by heartbeats", async () => {
  const s = await state()
  await s.setAgent({ id: "backend-1", role: "backend", status: "idle" }, 5_000)
  const ttl = await admin.pttl(Keys.agentState("backend-1"))
  expect(ttl).toBeGreaterThan(0)
  expect(ttl).toBeLessThanOrEqual(5_000)
  expect(await admin.hget("cca:agent:backend-1:state", "json")).toContain('"role":"backend"')

  expect(await s.heartbeat("backend-1", 60_000)).toBe(true)
  expect(await admin.pttl("cca:agent:backend-1:state")).toBeGreaterThan(5_000)

  await s.setSession("sess-1", { agentId: "backend-1" }, 30_000)
  expect(JSON.parse((await admin.get("cca:session:sess-1"))!)).toEqual({ agentId: "backend-1" })
  expect(await admin.pttl("cca:session:sess-1")).toBeGreaterThan(0)

  await s.pushTask("backend-1", "t1")
  expect(await admin.lrange("cca:tasks:backend-1", 0, -1)).toEqual(["t1"])
})

test("two daemons on one Redis see each other's agents and messages", async () => {
  const a = await state()
  const b = await state()
  await a.setAgent({ id: "qa-1", role: "qa", status: "busy", daemonId: "daemon-a" })
  expect(await b.getAgent("qa-1")).toMatchObject({ role: "qa", status: "busy", daemonId: "daemon-a" })
  expect((await b.listAgents()).map((x) => x.id)).toEqual(["qa-1"])

  const heard = await nextMessage(b, Channels.coord)
  await a.publish(Channels.coord, { from: "daemon-a", kind: "handoff" })
  expect(await heard.message).toEqual({ from: "daemon-a", kind: "handoff" })
})

test("Redis going away degrades with a warning, keeps working locally, and writes back when it returns", { timeout: 30_000 }, async () => {
  const rec = recorder()
  const a = await state(rec.log)
  const b = await state()
  await a.setAgent({ id: "backend-1", role: "backend", status: "idle" })
  await a.pushTask("backend-1", "before")
  const healthChanges: string[] = []
  a.onHealth((h) => healthChanges.push(h.state))

  await redis.stop()
  const degraded = await waitForHealth(a, "degraded")
  expect(degraded.backend).toBe("redis")
  expect(rec.lines.filter((l) => l.level === "warn").map((l) => l.text).join("\n")).toContain(`Redis at 127.0.0.1:${redis.port} is unreachable`)

  // Still working, on the local copy.
  await a.setAgent({ id: "backend-1", role: "backend", status: "busy", taskId: "t-outage" })
  await a.setAgent({ id: "frontend-1", role: "frontend", status: "idle" })
  expect(await a.heartbeat("backend-1")).toBe(true)
  expect(await a.pushTask("backend-1", "during")).toBe(2)
  await a.setSession("sess-x", { turns: 3 })
  expect((await a.listAgents()).map((x) => [x.id, x.status])).toEqual([
    ["backend-1", "busy"],
    ["frontend-1", "idle"],
  ])
  const local = await nextMessage(a, Channels.broadcast)
  await a.publish(Channels.broadcast, { during: "outage" })
  expect(await local.message).toEqual({ during: "outage" }) // delivered in-process while Redis is away

  await redis.start()
  await waitForHealth(a, "ok")
  await waitForHealth(b, "ok")
  expect(healthChanges).toEqual(["degraded", "ok"])
  expect(rec.lines.some((l) => l.level === "info" && l.text.includes("is back"))).toBe(true)

  // What changed during the outage is in Redis now: the other daemon sees it.
  expect(await b.getAgent("backend-1")).toMatchObject({ status: "busy", taskId: "t-outage" })
  expect((await b.listAgents()).map((x) => x.id)).toEqual(["backend-1", "frontend-1"])
  expect(await b.agentTasks("backend-1")).toEqual(["before", "during"])
  expect(await b.getSession("sess-x")).toEqual({ turns: 3 })
  expect(await admin.pttl(Keys.agentState("frontend-1"))).toBeGreaterThan(0)

  // And messages cross daemons again, on subscriptions made before the outage.
  const crossed = await nextMessage(a, Channels.status)
  await b.publish(Channels.status, { after: "recovery" })
  expect(await crossed.message).toEqual({ after: "recovery" })
})

test("a frozen Redis (connection open, no answers) times out into degraded instead of hanging, and recovers", { timeout: 30_000 }, async () => {
  const s = await openRedisState({ url: redis.url, log: recorder().log, probeMs: 100, commandTimeoutMs: 300 })
  open.push(s)
  await s.setAgent({ id: "a1", role: "backend", status: "idle" })
  redis.pause()
  try {
    await s.setAgent({ id: "a1", role: "backend", status: "busy" }) // waits at most the command timeout
    expect(s.health().state).toBe("degraded")
    expect(await s.getAgent("a1")).toMatchObject({ status: "busy" })
  } finally {
    redis.resume()
  }
  await waitForHealth(s, "ok")
  expect(await admin.hget(Keys.agentState("a1"), "json")).toContain('"status":"busy"')
})

test("a daemon started while Redis is down opens degraded and recovers when Redis comes up", { timeout: 30_000 }, async () => {
  await redis.stop()
  const rec = recorder()
  const s = await openState({ redisUrl: redis.url, log: rec.log })
  open.push(s)
  try {
    expect(s.health()).toMatchObject({ backend: "redis", state: "degraded" })
    expect(rec.lines.some((l) => l.level === "warn" && l.text.includes("unreachable"))).toBe(true)
    await s.setAgent({ id: "early", role: "backend", status: "starting" })
  } finally {
    await redis.start()
  }
  await waitForHealth(s, "ok")
  expect(await admin.hget(Keys.agentState("early"), "json")).toContain('"status":"starting"')
})

test("without redis.url the state is in-process", async () => {
  const s = await openState({})
  expect(s.backend).toBe("memory")
  expect(s.health().state).toBe("ok")
  await s.close()
})
