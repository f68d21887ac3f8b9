import { describe, expect, test } from "bun:test"
import { AcpClient, backoffDelay, type AcpClientOptions } from "../../src/acp/client"
import { ManualClock } from "../../src/acp/clock"
import { AcpConnectionClosedError, AcpTimeoutError } from "../../src/acp/errors"
import { AcpServer } from "../../src/acp/server"
import { UnauthorizedError } from "../../src/errors"
import { KEY, captureLogger, deferred, startServer, until } from "./support"

const HB = 30_000

function client(url: string, clock: ManualClock, extra: Partial<AcpClientOptions> = {}): AcpClient {
  return new AcpClient({ url, apiKey: KEY, agent: { agentId: "w1", role: "backend" }, clock, log: captureLogger().log, ...extra })
}

/** Records client events in order so a test can wait for the n-th one. */
function recorder() {
  const events: string[] = []
  const delays: number[] = []
  return {
    events,
    delays,
    handlers: {
      registered: (_r: unknown, again: boolean) => void events.push(again ? "re-registered" : "registered"),
      disconnected: (code: number) => void events.push(`disconnected ${code}`),
      reconnecting: (n: number, ms: number) => void (events.push(`reconnecting ${n}`), delays.push(ms)),
      closed: (e?: Error) => void events.push(`closed ${e?.name ?? ""}`.trim()),
    },
  }
}

describe("backoff", () => {
  test("doubles from the initial delay up to the cap; jitter only shortens", () => {
    const o = { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0.5 }
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, o, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000])
    expect(backoffDelay(3, o, () => 1)).toBe(200)
    expect(backoffDelay(3, o, () => 0.5)).toBe(300)
  })
})

describe("AcpClient", () => {
  test("heartbeats go out by themselves at the server's interval and keep the agent healthy", async () => {
    const clock = new ManualClock(1_000_000)
    await using s = await startServer({ clock })
    await using c = client(s.url, clock)
    await c.connect()
    for (let i = 1; i <= 6; i++) {
      clock.advance(HB)
      await until(() => s.server.agent("w1")?.lastHeartbeatAt === clock.now() && c.inFlight === 0, `heartbeat ${i} and its answer`)
    }
    expect(s.server.agent("w1")?.health).toBe("healthy")
    expect(s.server.status().messages.in).toBe(7) // register + 6 heartbeats
  })

  test("reconnects with exponential backoff after the server restarts, and registers again with its running tasks", async () => {
    const clock = new ManualClock()
    const first = await startServer()
    const port = first.server.port
    const rec = recorder()
    await using c = client(first.url, clock, {
      handlers: { ...rec.handlers, taskAssign: () => ({ accepted: true }) },
      reconnect: { initialDelayMs: 500, maxDelayMs: 10_000, factor: 2, jitter: 0.5 },
      random: () => 0.5,
    })
    await c.connect()
    await first.server.assignTask("w1", { taskId: "t1", prompt: "p" })
    await first.server.stop()
    await until(() => rec.events.includes("reconnecting 1"), "the first reconnect to be scheduled")
    expect(rec.events).toEqual(["registered", "disconnected 1001", "reconnecting 1"])
    expect(c.state).toBe("reconnecting")
    expect(await c.healthCheck().catch((e: unknown) => e)).toBeInstanceOf(AcpConnectionClosedError)

    // Two attempts against a closed port fail; each waits twice as long as the one before.
    for (const n of [2, 3]) {
      clock.advance(rec.delays.at(-1)!)
      await until(() => rec.events.includes(`reconnecting ${n}`), `reconnect ${n} to be scheduled`)
    }
    expect(rec.delays).toEqual([375, 750, 1500])

    await using second = new AcpServer({ port, authenticate: (k) => (k === KEY ? { id: "alice" } : null), log: captureLogger().log })
    await second.listen()
    clock.advance(1500)
    await until(() => rec.events.includes("re-registered"), "re-registration")
    expect(second.agent("w1")).toMatchObject({ connected: true, taskIds: ["t1"] })
    expect(c.state).toBe("ready")
    expect(await c.healthCheck()).toMatchObject({ status: "ok", agents: 1 })
    // A successful session resets the backoff.
    await second.stop()
    await until(() => rec.delays.length === 4, "the next reconnect")
    expect(rec.delays[3]).toBe(375)
  })

  test("several URLs: connects to the first that answers, fails over to the next when its server goes, and declares its running tasks there", async () => {
    const clock = new ManualClock()
    const dead = await startServer()
    const deadUrl = dead.url
    await dead.server.stop() // nothing listens on the first URL any more
    const a = await startServer()
    await using b = await startServer()
    const rec = recorder()
    await using c = new AcpClient({
      url: [deadUrl, a.url, b.url],
      apiKey: KEY,
      agent: { agentId: "w1", role: "backend" },
      clock,
      log: captureLogger().log,
      handlers: { ...rec.handlers, taskAssign: () => ({ accepted: true }) },
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0 },
    })
    await c.connect()
    expect(c.url).toBe(a.url)
    expect(a.server.agent("w1")?.connected).toBe(true)
    await a.server.assignTask("w1", { taskId: "t1", prompt: "p" })
    await a.server.stop()
    await until(() => rec.events.includes("reconnecting 1"), "the reconnect to be scheduled")
    clock.advance(rec.delays[0]!)
    await until(() => rec.events.includes("re-registered"), "registration at the next server")
    expect(c.url).toBe(b.url) // the next one first, not the one that just went away
    expect(b.server.agent("w1")).toMatchObject({ connected: true, taskIds: ["t1"] })
  })

  test("several URLs, none answering: connect fails with the last error", async () => {
    const one = await startServer()
    const two = await startServer()
    const urls = [one.url, two.url]
    await one.server.stop()
    await two.server.stop()
    const c = new AcpClient({ url: urls, apiKey: KEY, agent: { agentId: "w1", role: "backend" }, log: captureLogger().log, reconnect: false })
    expect(await c.connect().catch((e: unknown) => e)).toBeInstanceOf(Error)
    expect(c.state).toBe("closed")
  })

  test("a refused key on reconnect stops the client for good", async () => {
    const clock = new ManualClock()
    const first = await startServer()
    const rec = recorder()
    await using c = client(first.url, clock, { handlers: rec.handlers, random: () => 0 })
    await c.connect()
    const port = first.server.port
    await first.server.stop()
    await until(() => rec.events.includes("reconnecting 1"), "reconnect")
    await using second = new AcpServer({ port, authenticate: () => null, log: captureLogger().log })
    await second.listen()
    clock.advance(rec.delays[0]!)
    await until(() => c.state === "closed", "the client to give up")
    expect(rec.events.at(-1)).toBe(`closed ${UnauthorizedError.code}`)
    expect(clock.pending()).toEqual([])
  })

  test("a request times out by name, and the client stays usable", async () => {
    const clock = new ManualClock()
    const started = deferred<void>()
    await using s = await startServer({ hooks: { onDelegate: () => (started.resolve(), new Promise(() => {})) } })
    await using c = client(s.url, clock)
    await c.connect()
    const slow = c.delegate({ prompt: "forever", wait: true }, { timeoutMs: 2000 }).catch((e: unknown) => e)
    await started.promise
    clock.advance(1999)
    clock.advance(1)
    const err = await slow
    expect(err).toBeInstanceOf(AcpTimeoutError)
    expect((err as Error).message).toBe("agent.delegate got no answer within 2000 ms")
    expect(await c.healthCheck()).toMatchObject({ status: "ok" })
  })

  test("pending requests fail at once when the connection drops", async () => {
    const clock = new ManualClock()
    const started = deferred<void>()
    const s = await startServer({ hooks: { onDelegate: () => (started.resolve(), new Promise(() => {})) } })
    await using c = client(s.url, clock, { reconnect: false })
    await c.connect()
    const pending = c.delegate({ prompt: "x", wait: true }, { timeoutMs: 60_000 }).catch((e: unknown) => e)
    await started.promise
    await s.server.stop()
    const err = await pending
    expect(err).toBeInstanceOf(AcpConnectionClosedError)
    expect((err as Error).message).toContain("closed (code 1001)")
    expect(c.state).toBe("closed")
  })

  test("an unanswered heartbeat drops the link and starts reconnecting", async () => {
    // A scripted server speaking ACP over a real socket: it registers agents and then ignores their heartbeats.
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("no", { status: 400 })),
      websocket: {
        message(ws, raw) {
          const m = JSON.parse(String(raw))
          if (m.method === "agent.register") ws.send(JSON.stringify({ jsonrpc: "2.0", id: m.id, result: { agentId: m.params.agentId, heartbeatIntervalMs: 1000, maxFrameBytes: 65536, serverTime: 0 } }))
        },
      },
    })
    try {
      const clock = new ManualClock()
      const rec = recorder()
      await using c = client(`ws://127.0.0.1:${server.port}/`, clock, { handlers: rec.handlers })
      await c.connect()
      clock.advance(1000) // heartbeat sent
      clock.advance(1000) // ...and unanswered for a whole interval
      await until(() => rec.events.includes("reconnecting 1"), "the reconnect")
      expect(rec.events.slice(0, 2)).toEqual(["registered", "disconnected 1006"])
    } finally {
      await server.stop(true)
    }
  })

  test("close() fails pending requests, stops timers, and fires closed", async () => {
    const clock = new ManualClock()
    await using s = await startServer({ hooks: { onDelegate: () => new Promise(() => {}) } })
    const rec = recorder()
    const c = client(s.url, clock, { handlers: rec.handlers })
    await c.connect()
    const pending = c.delegate({ prompt: "x" }).catch((e: unknown) => e)
    await c.close()
    expect(await pending).toBeInstanceOf(AcpConnectionClosedError)
    expect(rec.events).toEqual(["registered", "closed"])
    expect(clock.pending()).toEqual([])
    await until(() => s.server.agent("w1")?.connected === false, "the server to see the close")
  })
})

test("a stopped server can listen again and agents register anew", async () => {
  await using s = await startServer()
  await using c = client(s.url, new ManualClock(), { reconnect: false })
  await c.connect()
  await s.server.stop()
  const { url } = await s.server.listen()
  await using again = client(url, new ManualClock(), { reconnect: false, agent: { agentId: "w2", role: "qa" } })
  await again.connect()
  expect(s.server.agent("w2")?.connected).toBe(true)
  expect(s.lines.filter((l) => l.includes("registered (role")).length).toBe(2)
})
