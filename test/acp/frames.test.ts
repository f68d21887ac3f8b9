import { describe, expect, test } from "bun:test"
import { AcpClient } from "../../src/acp/client"
import { ManualClock } from "../../src/acp/clock"
import { AcpFrameTooLargeError } from "../../src/acp/errors"
import { CloseCode, ErrorCode } from "../../src/acp/protocol"
import { KEY, RawSocket, captureLogger, startServer, until } from "./support"

// Every class of bad frame gets its JSON-RPC error and the connection stays
// usable; floods, oversized frames and clients that stop reading leave the
// server healthy with bounded memory.

const bad: [string, string | Uint8Array, number, string | number | null][] = [
  ["not JSON", "{oops", ErrorCode.parseError, null],
  ["binary garbage", new Uint8Array([0xff, 0xfe, 0x00, 0x7b]), ErrorCode.parseError, null],
  ["a batch", '[{"jsonrpc":"2.0","id":1,"method":"health_check"}]', ErrorCode.invalidRequest, null],
  ["a bare number", "42", ErrorCode.invalidRequest, null],
  ["null", "null", ErrorCode.invalidRequest, null],
  ["wrong jsonrpc version", '{"jsonrpc":"1.0","id":1,"method":"health_check"}', ErrorCode.invalidRequest, 1],
  ["no method, no result", '{"jsonrpc":"2.0","id":2}', ErrorCode.invalidRequest, 2],
  ["method not a string", '{"jsonrpc":"2.0","id":3,"method":7}', ErrorCode.invalidRequest, 3],
  ["id an object", '{"jsonrpc":"2.0","id":{},"method":"health_check"}', ErrorCode.invalidRequest, null],
  ["params a string", '{"jsonrpc":"2.0","id":"s","method":"health_check","params":"x"}', ErrorCode.invalidRequest, "s"],
  ["unknown method", '{"jsonrpc":"2.0","id":4,"method":"task.explode"}', ErrorCode.methodNotFound, 4],
  ["wrong params", '{"jsonrpc":"2.0","id":5,"method":"agent.register","params":{"agentId":"","role":3,"capabilities":[1]}}', ErrorCode.invalidParams, 5],
]

describe("malformed frames", () => {
  test("each class gets its error code and the connection keeps working", async () => {
    await using s = await startServer()
    const sock = await RawSocket.open(s.url)
    for (const [name, frame, code, id] of bad) {
      sock.ws.send(frame)
      const r = await sock.next()
      expect({ name, code: r.error?.code, id: r.id }).toEqual({ name, code, id })
      expect(r.jsonrpc).toBe("2.0")
    }
    // Ignored without an answer: a response nobody asked for, a notification of an unknown method, a bad notification.
    sock.send({ jsonrpc: "2.0", id: 99, result: 1 })
    sock.send({ jsonrpc: "2.0", method: "nope" })
    sock.send({ jsonrpc: "2.0", method: "task.progress", params: { taskId: 5 } })
    const ok = await sock.call("health_check", {}, "after")
    expect(ok).toMatchObject({ id: "after", result: { status: "ok" } })
    expect(s.server.status().errors).toBe(bad.length + 2)
    await sock.close()
  })

  test("wrong params name every offending path", async () => {
    await using s = await startServer()
    const sock = await RawSocket.open(s.url)
    const r = await sock.call("agent.register", { agentId: "", role: 3, capabilities: ["ok", 1] })
    expect(r.error?.code).toBe(ErrorCode.invalidParams)
    expect(r.error?.data.issues.map((i: { path: string }) => i.path)).toEqual(["agentId", "role", "capabilities.1"])
    expect(r.error?.message).toStartWith("Invalid params: agentId:")
    await sock.register("fine")
    const p = await sock.call("task_result", { taskId: "t", status: "exploded" }, 2)
    expect(p.error?.data.issues).toEqual([{ path: "status", message: expect.stringContaining("exploded") }])
    await sock.close()
  })

  test("10,000 malformed frames: every one answered, the server stays responsive to others", async () => {
    await using s = await startServer()
    const flood = await RawSocket.open(s.url)
    const other = new AcpClient({ url: s.url, apiKey: KEY, agent: { agentId: "bystander", role: "qa" }, clock: new ManualClock(), reconnect: false, log: captureLogger().log })
    await other.connect()
    const N = 10_000
    for (let i = 0; i < N; i++) flood.ws.send(bad[i % bad.length]![1])
    const codes = new Map<number, number>()
    for (let i = 0; i < N; i++) {
      const r = await flood.next()
      codes.set(r.error!.code, (codes.get(r.error!.code) ?? 0) + 1)
    }
    expect([...codes.values()].reduce((a, b) => a + b, 0)).toBe(N)
    expect(codes.get(ErrorCode.parseError)).toBeGreaterThan(0)
    expect(codes.get(ErrorCode.invalidParams)).toBeGreaterThan(0)
    expect(await other.healthCheck()).toMatchObject({ status: "ok", agents: 1 })
    expect((await flood.call("health_check", {}, "still-here")).result.status).toBe("ok")
    expect(s.server.status()).toMatchObject({ connections: 2, errors: N, droppedConnections: 0 })
    await other.close()
    await flood.close()
  })
})

describe("oversized frames", () => {
  test("over maxFrameBytes: -32001 with the request's id, and the connection survives", async () => {
    await using s = await startServer({ maxFrameBytes: 64 * 1024 })
    const sock = await RawSocket.open(s.url)
    await sock.register("big")
    const r = await sock.call("broadcast", { message: "x".repeat(64 * 1024) }, 77)
    expect(r).toMatchObject({ id: 77, error: { code: ErrorCode.frameTooLarge, data: { maxBytes: 64 * 1024 } } })
    expect(r.error!.data.bytes).toBeGreaterThan(64 * 1024)
    // Counted in UTF-8 bytes: 30,000 three-byte characters are 90,000 bytes though the string's length is 30,000.
    const wide = await sock.call("broadcast", { message: "€".repeat(30_000) }, 78)
    expect(wide).toMatchObject({ id: 78, error: { code: ErrorCode.frameTooLarge } })
    expect((await sock.call("broadcast", { message: "small" }, 79)).result).toEqual({ recipients: 0 })
    await sock.close()
  })

  test("over the hard limit the frame is not read: the connection closes with 1009", async () => {
    await using s = await startServer({ maxFrameBytes: 1024, hardMaxFrameBytes: 8 * 1024 })
    const sock = await RawSocket.open(s.url)
    sock.send("y".repeat(16 * 1024))
    expect((await sock.closed).code).toBe(1009)
  })

  test("the client refuses to send a frame the server would reject", async () => {
    await using s = await startServer({ maxFrameBytes: 4096 })
    await using c = new AcpClient({ url: s.url, apiKey: KEY, agent: { agentId: "c", role: "qa" }, clock: new ManualClock(), reconnect: false, log: captureLogger().log })
    expect((await c.connect()).maxFrameBytes).toBe(4096)
    expect(await c.broadcast({ message: "z".repeat(5000) }).catch((e: unknown) => e)).toBeInstanceOf(AcpFrameTooLargeError)
    expect(c.state).toBe("ready")
  })
})

describe("slow consumers", () => {
  test("a client that stops reading is cut off with 4008; the server's queue and memory stay bounded", async () => {
    const limit = 1024 * 1024
    const codes: number[] = []
    await using s = await startServer({ maxBufferedBytes: limit, hooks: { onDisconnect: (_a, code) => codes.push(code) } })
    const slow = await RawSocket.open(s.url)
    await slow.register("slow")
    let fastGot = 0
    await using fast = new AcpClient({ url: s.url, apiKey: KEY, agent: { agentId: "fast", role: "qa" }, handlers: { broadcast: () => void fastGot++ }, clock: new ManualClock(), reconnect: false, log: captureLogger().log })
    await fast.connect()
    slow.ws.pause()

    const chunk = "m".repeat(64 * 1024)
    // Collect first and last: other test files' garbage in this process must not count as growth.
    Bun.gc(true)
    const rss0 = process.memoryUsage().rss
    let sent = 0
    let sentBeforeCut = 0
    // 128 MiB of broadcasts in all: an unbounded queue for the slow client would hold all of it.
    for (let i = 0; i < 2048; i++) {
      s.server.broadcast({ message: chunk })
      sent++
      if (sentBeforeCut === 0 && s.server.status().droppedConnections === 1) sentBeforeCut = sent
      // Yield often: the fast client lives on this event loop and must be given time to read.
      if (i % 4 === 3) await until(() => fastGot >= sent - 8, "the fast client to keep up")
    }
    await until(() => fastGot === sent, "every broadcast at the fast client")
    Bun.gc(true)
    const grown = process.memoryUsage().rss - rss0

    const st = s.server.status()
    expect(st.droppedConnections).toBe(1)
    expect(codes).toEqual([CloseCode.slowConsumer])
    expect(sentBeforeCut).toBeGreaterThan(0)
    expect(sentBeforeCut * chunk.length).toBeLessThan(48 * 1024 * 1024) // kernel socket buffers + our limit, not the whole stream
    expect(st.peakBufferedBytes).toBeLessThanOrEqual(limit + chunk.length + 1024)
    expect(grown).toBeLessThan(64 * 1024 * 1024)
    expect(s.lines.some((l) => l.startsWith("warn") && l.includes("cut off agent slow") && l.includes("reads too slowly"))).toBe(true)
    expect(s.server.agent("slow")?.connected).toBe(false)
    expect(s.server.agent("fast")?.connected).toBe(true)
    slow.ws.resume()
    expect((await slow.closed).code).toBe(CloseCode.slowConsumer)
  })
})

describe("requests in flight", () => {
  test("past maxInFlight a connection gets -32006 until its requests answer; other connections are unaffected", async () => {
    const waiting: (() => void)[] = []
    await using s = await startServer({
      maxInFlight: 3,
      hooks: { onDelegate: () => new Promise((resolve) => waiting.push(() => resolve({ taskId: "child" }))) },
    })
    const sock = await RawSocket.open(s.url)
    await sock.register("greedy")
    for (let i = 1; i <= 4; i++) sock.send({ jsonrpc: "2.0", id: i, method: "agent.delegate", params: { prompt: "x", wait: true } })
    expect(await sock.next()).toMatchObject({ id: 4, error: { code: ErrorCode.tooManyInFlight } })
    const other = await RawSocket.open(s.url)
    await other.register("calm")
    other.send({ jsonrpc: "2.0", id: 1, method: "agent.delegate", params: { prompt: "y" } })
    await until(() => waiting.length === 4, "the other connection's delegation to reach the hook")
    for (const release of waiting.splice(0)) release()
    expect((await other.next()).result).toEqual({ taskId: "child" })
    const answered = [await sock.next(), await sock.next(), await sock.next()].map((r) => r.id).sort()
    expect(answered).toEqual([1, 2, 3])
    const again = sock.call("agent.delegate", { prompt: "z" }, 5)
    await until(() => waiting.length === 1, "the next delegation")
    waiting.pop()!()
    expect((await again).result).toEqual({ taskId: "child" })
    await Promise.all([sock.close(), other.close()])
  })
})
