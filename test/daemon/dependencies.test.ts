import { afterAll, beforeAll, expect, test } from "bun:test"
import type { BroadcastNotice } from "../../src/acp/protocol"
import type { StateHealth } from "../../src/state/types"
import { startRedis, type RedisServer } from "../support/redis"
import { signal, taskEvent, testDaemon, type TestDaemon } from "./harness"

// The daemon on its scale-out dependencies: a real redis-server (state and
// pub/sub), taken away and brought back; heartbeats missed by a real agent
// connection; two daemons sharing one Redis.

let redis: RedisServer
let a: TestDaemon
let b: TestDaemon
beforeAll(async () => {
  redis = await startRedis()
  const sections = { redis: { url: redis.url }, acp: { heartbeat_interval_s: 0.1, heartbeat_misses: 2 } }
  a = await testDaemon(sections)
  b = await testDaemon(sections)
}, 120_000)
afterAll(async () => {
  await a?.[Symbol.asyncDispose]()
  await b?.[Symbol.asyncDispose]()
  await redis?.close()
})

function nextHealth(t: TestDaemon, state: StateHealth["state"]): Promise<StateHealth> {
  return new Promise((resolve) => {
    const off = t.daemon.ctx.state.onHealth((h) => {
      if (h.state !== state) return
      off()
      resolve(h)
    })
  })
}

test("health shows Redis as the state backend, degraded while it is away, ok when it is back", async () => {
  const ok = await a.json("GET", "/api/v1/health")
  expect(ok.body).toMatchObject({ status: "ok", checks: { state: { backend: "redis", state: "ok" } } })
  const degraded = nextHealth(a, "degraded")
  await redis.stop()
  await degraded
  const down = await a.json("GET", "/api/v1/health")
  expect(down.status).toBe(200) // degraded is not down: the daemon runs on its local copy
  expect(down.body).toMatchObject({ status: "degraded", checks: { state: { backend: "redis", state: "degraded" } } })
  expect((await a.json("GET", "/api/v1/status")).body.state.state).toBe("degraded")
  // tasks still flow while Redis is away
  const id = (await a.json("POST", "/api/v1/tasks", { description: "during the outage", role: "nobody" })).body.id
  expect((await a.json("GET", `/api/v1/tasks/${id}`)).body.status).toBe("pending")
  const back = nextHealth(a, "ok")
  await redis.start()
  await back
  expect((await a.json("GET", "/api/v1/health")).body.status).toBe("ok")
}, 60_000)

test("an agent that stops heartbeating turns unhealthy and its task is requeued", async () => {
  const ws = new WebSocket(a.daemon.acp, { headers: { authorization: `Bearer ${a.key}` } } as unknown as string[])
  await new Promise((r) => (ws.onopen = r))
  const offered = signal<number | string>()
  ws.onmessage = (m) => {
    const msg = JSON.parse(String(m.data))
    if (msg.method === "task_assign") {
      ws.send(JSON.stringify({ jsonrpc: "2.0", id: msg.id, result: { accepted: true } }))
      offered.resolve(msg.params.taskId)
    }
  }
  ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "agent.register", params: { agentId: "silent-1", role: "silent" } }))
  const id = (await a.json("POST", "/api/v1/tasks", { description: "watch me go quiet", role: "silent" })).body.id
  expect(await offered.promise).toBe(id)
  const requeued = await taskEvent(a, id, "requeued", 5000) // no heartbeat for 2 x 100 ms
  expect(requeued.data.reason).toMatchObject({ code: "agent_unhealthy" })
  expect((await a.json("GET", "/api/v1/agents/silent-1")).body).toMatchObject({ health: "unhealthy", status: "unhealthy" })
  ws.close()
})

test("a broadcast reaches the agents of every daemon on the same Redis", async () => {
  if (b.daemon.ctx.state.health().state !== "ok") await nextHealth(b, "ok") // b saw the outage of the first test too
  const heard = signal<BroadcastNotice>()
  await b.agent("listener-b", "listener", { broadcast: (n) => heard.resolve(n) })
  const r = await a.json("POST", "/api/v1/broadcast", { message: "from daemon a", role: "listener" })
  expect(r.body.recipients).toBe(0) // none of a's own agents has that role
  expect(await heard.promise).toMatchObject({ message: "from daemon a", from: "api" })
})
