import { afterAll, beforeAll, expect, test } from "bun:test"
import { testDaemon, type TestDaemon } from "./harness"

// Issue 15, probe item 5: acp.max_connections, acp.send_queue_limit and a
// handshake rate limit per address, on the daemon's real ACP port.

let t: TestDaemon
beforeAll(async () => {
  t = await testDaemon({ acp: { max_connections: 3, handshake_rps: 0.01, handshake_burst: 6, send_queue_limit: 1 } })
}, 60_000)
afterAll(async () => {
  await t[Symbol.asyncDispose]()
})

type Outcome = { ws: WebSocket; open: boolean; status?: number }

/** Open a socket; resolves once it is open or refused (Bun reports the refused handshake's status in the error). */
async function connect(key: string | null): Promise<Outcome> {
  const ws = new WebSocket(t.daemon.acp, { headers: key ? { authorization: `Bearer ${key}` } : {} } as unknown as string[])
  return new Promise((resolve) => {
    ws.onopen = () => resolve({ ws, open: true })
    ws.onerror = () => resolve({ ws, open: false })
    ws.onclose = () => resolve({ ws, open: false })
  })
}

async function status(key: string | null): Promise<number> {
  const url = t.daemon.acp.replace(/^ws/, "http")
  const res = await fetch(url, { headers: { upgrade: "websocket", connection: "upgrade", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", ...(key ? { authorization: `Bearer ${key}` } : {}) } })
  await res.body?.cancel()
  return res.status
}

test("past acp.max_connections a handshake is refused with 503, and past the handshake rate with 429", async () => {
  const open = [await connect(t.key), await connect(t.key), await connect(t.key)]
  expect(open.map((o) => o.open)).toEqual([true, true, true])
  expect(t.daemon.ctx.acp.status().connections).toBe(3)
  const fourth = await connect(t.key)
  expect(fourth.open).toBe(false)
  expect(await status(t.key)).toBe(503) // 5th handshake of the bucket's 6
  expect(t.daemon.ctx.acp.status().connections).toBe(3)
  const gone = new Promise<void>((r) => (open[0]!.ws.onclose = () => r()))
  open[0]!.ws.close()
  await gone
  // the 6th handshake would pass the connection limit now, but the 7th is over the rate
  expect(await status(null)).toBe(401)
  expect(await status(t.key)).toBe(429)
  for (const o of open.slice(1)) o.ws.close()
})

test("a connection with more frames queued behind backpressure than acp.send_queue_limit is cut off with 4008", async () => {
  const { Connection } = await import("../../src/acp/connection")
  const { createLogger } = await import("../../src/log")
  const { systemClock } = await import("../../src/acp/clock")
  const closes: number[] = []
  // Bun's ServerWebSocket as a backpressured socket reports it: send() -> -1 (queued), a small buffer.
  const ws = { readyState: 1, data: { principal: { id: "k" }, remote: "test", conn: null }, send: () => -1, getBufferedAmount: () => 10, close: (code: number) => closes.push(code) }
  const counters = { messagesIn: 0, messagesOut: 0, errors: 0, rejectedHandshakes: 0, droppedConnections: 0, peakBufferedBytes: 0 }
  const conn = new Connection(1, ws as never, { counters, log: createLogger("test"), clock: systemClock, maxBufferedBytes: 1 << 20, maxQueuedFrames: 3 })
  expect([conn.send("a"), conn.send("b"), conn.send("c")]).toEqual([true, true, true])
  conn.drained()
  expect([conn.send("d"), conn.send("e"), conn.send("f"), conn.send("g")]).toEqual([true, true, true, false])
  expect(closes).toEqual([4008])
  expect(counters.droppedConnections).toBe(1)
})
