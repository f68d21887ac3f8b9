import { createConsola } from "consola/core"
import { ManualClock } from "../../src/acp/clock"
import { AcpServer, type AcpServerOptions } from "../../src/acp/server"
import type { Logger } from "../../src/log"

// Real ACP servers on port 0 with a manual clock, a raw WebSocket that lets a
// test send any bytes it likes, and a logger whose lines a test can read.

export const KEY = "acp-test-key-0123456789"
export const OTHER_KEY = "acp-other-key-9876543210"

export function captureLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = []
  const log = createConsola({
    level: 5,
    reporters: [{ log: (obj) => lines.push(`${obj.type} ${obj.args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ")}`) }],
  })
  return { log, lines }
}

export type TestServer = { server: AcpServer; clock: ManualClock; url: string; lines: string[]; [Symbol.asyncDispose](): Promise<void> }

export async function startServer(opts: Partial<AcpServerOptions> = {}): Promise<TestServer> {
  const clock = new ManualClock(1_000_000)
  const { log, lines } = captureLogger()
  const server = new AcpServer({
    port: 0,
    clock,
    log,
    authenticate: (key) => (key === KEY ? { id: "alice" } : key === OTHER_KEY ? { id: "bob" } : null),
    ...opts,
  })
  await server.listen()
  return { server, clock, url: server.url, lines, [Symbol.asyncDispose]: () => server.stop() }
}

type Json = Record<string, unknown> & { id?: unknown; result?: any; error?: { code: number; message: string; data?: any }; method?: string; params?: any }

/** A WebSocket driven frame by frame: no client library between the test and the server. */
export class RawSocket {
  private queue: string[] = []
  private waiters: ((text: string) => void)[] = []
  readonly closed: Promise<{ code: number; reason: string }>

  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (ev) => {
      const text = String(ev.data)
      const w = this.waiters.shift()
      if (w) w(text)
      else this.queue.push(text)
    }
    this.closed = new Promise((resolve) => ws.addEventListener("close", (ev) => resolve({ code: ev.code, reason: ev.reason })))
  }

  static open(url: string, init: { headers?: Record<string, string>; protocols?: string[] } = { headers: { Authorization: `Bearer ${KEY}` } }): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, init)
      ws.onopen = () => resolve(new RawSocket(ws))
      ws.onerror = (ev) => reject(new Error((ev as ErrorEvent).message))
    })
  }

  send(frame: string | object): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame))
  }

  /** The next frame from the server, parsed; fails after `ms`. */
  next(ms = 5000): Promise<Json> {
    const queued = this.queue.shift()
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no frame from the server within ${ms} ms`)), ms)
      this.waiters.push((text) => {
        clearTimeout(timer)
        resolve(JSON.parse(text))
      })
    })
  }

  async call(method: string, params?: unknown, id: number | string = 1): Promise<Json> {
    this.send({ jsonrpc: "2.0", id, method, params })
    return this.next()
  }

  async register(agentId: string, role = "backend", extra: object = {}): Promise<Json> {
    const r = await this.call("agent.register", { agentId, role, capabilities: ["ts"], ...extra }, `reg-${agentId}`)
    if (!r.result) throw new Error(`register failed: ${JSON.stringify(r)}`)
    return r
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close()
    return this.closed
  }
}

/** Resolves when `check` holds, polling on the event loop; fails with `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = performance.now() + ms
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setImmediate(r))
  }
}

/** A promise plus its resolve, for hooks a test waits on. */
export function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

/** An HTTP/1.1 WebSocket handshake over plain TCP: the status line and headers exactly as the server sent them. */
export async function rawHandshake(port: number, headers: Record<string, string>, path = "/"): Promise<{ status: number; head: string; body: string }> {
  const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
  let data = ""
  const done = deferred<void>()
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        data += chunk.toString()
        const end = data.indexOf("\r\n\r\n")
        if (end < 0) return
        const head = data.slice(0, end)
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0)
        if (head.startsWith("HTTP/1.1 101") || data.length >= end + 4 + length) done.resolve()
      },
      close() {
        done.resolve()
      },
    },
  })
  socket.write(lines.join("\r\n") + "\r\n\r\n")
  const timer = setTimeout(() => done.reject(new Error("the handshake got no answer within 5 s")), 5000)
  await done.promise.finally(() => clearTimeout(timer))
  socket.end()
  const end = data.indexOf("\r\n\r\n")
  const head = data.slice(0, end)
  return { status: Number(head.split(" ")[1]), head, body: data.slice(end + 4) }
}
