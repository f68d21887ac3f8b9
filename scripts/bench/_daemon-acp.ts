// ACP's share of `bun run bench daemon`: request round trip with 200
// connected clients (target p99 < 2 ms) and broadcast to 200 clients until the
// last one has it (target < 20 ms), each next to a bare Bun WebSocket server
// (echo / publish) measured in the same run as the floor. Servers run in a
// child process so they do not share an event loop with the 200 clients.
// scripts/bench/daemon.ts calls benchDaemonAcp({ target }) with the daemon's
// ACP url and key; `bun scripts/bench/_daemon-acp.ts [requests]` runs it alone
// against a standalone AcpServer.
import { AcpClient } from "../../src/acp/client"
import { AcpServer } from "../../src/acp/server"
import { createConsola } from "consola/core"
import { printTable, stats, type Stats } from "./_lib"

export type AcpTarget = { url: string; apiKey: string }

export type AcpFigures = {
  roundTrip: Record<string, Stats>
  burst: Record<string, Stats>
  broadcast: Record<string, Stats>
  roundTripP99Ms: number
  broadcastP99Ms: number
  targets: { roundTripP99Ms: number; broadcastMs: number }
}

const FLOOR_RT = "bare Bun WS echo (floor)"
const FLOOR_BURST = "bare Bun WS echo (floor)"
const FLOOR_BC = "bare Bun WS publish (floor)"
// Bench logs go nowhere: 200 clients' connect/disconnect lines would only fill the user's log file.
const quiet = createConsola({ level: 0, reporters: [] })

/** A server in a child process; resolves once it printed its url. */
export async function spawnServer(kind: "acp" | "echo"): Promise<AcpTarget & { stop(): Promise<void> }> {
  const proc = Bun.spawn([process.execPath, import.meta.path, "--serve", kind], { stdout: "pipe", stderr: "inherit" })
  const reader = proc.stdout.getReader()
  let out = ""
  while (!out.includes("\n")) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`the ${kind} server exited before it was ready (exit ${await proc.exited})`)
    out += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  const [url, apiKey] = out.trim().split(" ")
  return {
    url: url!,
    apiKey: apiKey!,
    async stop() {
      proc.kill()
      await proc.exited
    },
  }
}

/** A raw JSON-RPC peer: no client library, just frames and ids. */
class RawPeer {
  private waiting = new Map<number, () => void>()
  private nextId = 1
  onNotice: (() => void) | null = null

  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (ev) => {
      const text = String(ev.data)
      // Cheap routing: answers carry "id", notifications do not.
      const m = /"id":(\d+)/.exec(text)
      if (m) this.waiting.get(Number(m[1]))?.()
      else this.onNotice?.()
    }
  }

  static open(t: AcpTarget): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(t.url, { headers: { Authorization: `Bearer ${t.apiKey}` } })
      ws.onopen = () => resolve(new RawPeer(ws))
      ws.onerror = (e) => reject(new Error((e as ErrorEvent).message))
    })
  }

  call(method: string, params: unknown): Promise<void> {
    const id = this.nextId++
    return new Promise((resolve) => {
      this.waiting.set(id, () => (this.waiting.delete(id), resolve()))
      this.ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }))
    })
  }
}

async function inBatches<T>(n: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < n; i += 50) out.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, j) => make(i + j)))))
  return out
}

async function rawPeers(t: AcpTarget, n: number, register: boolean, tag: string): Promise<RawPeer[]> {
  return inBatches(n, async (i) => {
    const p = await RawPeer.open(t)
    if (register) await p.call("agent.register", { agentId: `bench-${tag}-${i}`, role: i % 2 ? "bench-a" : "bench-b" })
    return p
  })
}

async function acpClients(t: AcpTarget, n: number, tag: string, onBroadcast?: () => void): Promise<AcpClient[]> {
  return inBatches(n, async (i) => {
    const c = new AcpClient({ url: t.url, apiKey: t.apiKey, agent: { agentId: `bench-${tag}-${i}`, role: i % 2 ? "bench-a" : "bench-b" }, handlers: { broadcast: onBroadcast }, reconnect: false, log: quiet })
    await c.connect()
    return c
  })
}

/** Sequential requests round-robin over all clients: one in flight at a time. */
async function roundTrips(n: number, warmup: number, call: (i: number) => Promise<unknown>): Promise<Stats> {
  for (let i = 0; i < warmup; i++) await call(i)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await call(i)
    out.push(performance.now() - t0)
  }
  return stats(out)
}

/** Every client sends one request at once; each request's latency is a sample. */
async function burst(rounds: number, clients: number, call: (i: number) => Promise<unknown>): Promise<Stats> {
  const out: number[] = []
  for (let r = 0; r < rounds; r++) {
    await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        const t0 = performance.now()
        await call(i)
        if (r > 0) out.push(performance.now() - t0)
      }),
    )
  }
  return stats(out)
}

/** One sender, `receivers` listeners: time from the send until the last listener has the message. */
async function broadcasts(rounds: number, send: () => unknown, arm: (onAll: () => void) => void): Promise<Stats> {
  const out: number[] = []
  for (let r = 0; r < rounds + 10; r++) {
    const done = new Promise<void>((resolve) => arm(resolve))
    const t0 = performance.now()
    const acked = send()
    await done
    if (r >= 10) out.push(performance.now() - t0)
    await acked // the sender's own answer, before the next round
  }
  return stats(out)
}

function counter(receivers: number) {
  let got = 0
  let onAll: (() => void) | null = null
  return {
    hit() {
      if (++got === receivers && onAll) onAll()
    },
    arm(fn: () => void) {
      got = 0
      onAll = fn
    },
  }
}

export async function benchDaemonAcp(opts: { target?: AcpTarget; clients?: number; requests?: number; rounds?: number; print?: boolean } = {}): Promise<AcpFigures> {
  const clients = opts.clients ?? 200
  const requests = opts.requests ?? 5000
  const rounds = opts.rounds ?? 200
  const floor = await spawnServer("echo")
  const own = opts.target ? null : await spawnServer("acp")
  const target = opts.target ?? own!
  const closers: (() => unknown)[] = []
  try {
    const roundTrip: Record<string, Stats> = {}
    const burstRows: Record<string, Stats> = {}
    const broadcast: Record<string, Stats> = {}

    // Round trip: health_check through each path, 200 connections open on each server.
    const floorPeers = await rawPeers(floor, clients, false, "floor")
    closers.push(() => floorPeers.forEach((p) => p.ws.close()))
    roundTrip[FLOOR_RT] = await roundTrips(requests, 500, (i) => floorPeers[i % clients]!.call("health_check", {}))
    const peers = await rawPeers(target, clients, true, "raw")
    closers.push(() => peers.forEach((p) => p.ws.close()))
    roundTrip["ACP health_check, raw socket client"] = await roundTrips(requests, 500, (i) => peers[i % clients]!.call("health_check", {}))
    const lib = await acpClients(target, clients, "lib")
    closers.push(() => Promise.all(lib.map((c) => c.close())))
    roundTrip["ACP health_check, AcpClient"] = await roundTrips(requests, 500, (i) => lib[i % clients]!.healthCheck())
    burstRows[FLOOR_BURST] = await burst(Math.ceil(requests / clients) + 1, clients, (i) => floorPeers[i]!.call("health_check", {}))
    burstRows["ACP health_check, AcpClient"] = await burst(Math.ceil(requests / clients) + 1, clients, (i) => lib[i]!.healthCheck())
    for (const close of closers.splice(0)) await close()

    // Broadcast: one sender plus `clients` receivers on each server.
    const fc = counter(clients)
    const floorAll = await rawPeers(floor, clients + 1, false, "floor-bc")
    closers.push(() => floorAll.forEach((p) => p.ws.close()))
    floorAll.slice(1).forEach((p) => (p.onNotice = fc.hit))
    broadcast[FLOOR_BC] = await broadcasts(rounds, () => floorAll[0]!.ws.send('{"jsonrpc":"2.0","method":"broadcast","params":{"message":"hello all"}}'), fc.arm)

    const rc = counter(clients)
    const rawAll = await rawPeers(target, clients + 1, true, "raw-bc")
    closers.push(() => rawAll.forEach((p) => p.ws.close()))
    rawAll.slice(1).forEach((p) => (p.onNotice = rc.hit))
    broadcast["ACP broadcast, raw socket receivers"] = await broadcasts(rounds, () => rawAll[0]!.call("broadcast", { message: "hello all" }), rc.arm)
    for (const close of closers.splice(0)) await close()

    const lc = counter(clients)
    const libAll = await acpClients(target, clients + 1, "lib-bc", lc.hit)
    closers.push(() => Promise.all(libAll.map((c) => c.close())))
    const sender = libAll[0]!
    // The sender's own handler never fires (the server skips the sender), so only the receivers count.
    broadcast["ACP broadcast, AcpClient receivers"] = await broadcasts(rounds, () => sender.broadcast({ message: "hello all" }), lc.arm)

    const figures: AcpFigures = {
      roundTrip,
      burst: burstRows,
      broadcast,
      roundTripP99Ms: roundTrip["ACP health_check, AcpClient"]!.p99,
      broadcastP99Ms: broadcast["ACP broadcast, AcpClient receivers"]!.p99,
      targets: { roundTripP99Ms: 2, broadcastMs: 20 },
    }
    if (opts.print !== false) {
      printTable(`ACP request round trip, ${clients} connected clients, ${requests} sequential requests (target: p99 < 2 ms)`, roundTrip, FLOOR_RT)
      printTable(`ACP request round trip, all ${clients} clients sending at once (latency includes queueing in the one client process)`, burstRows, FLOOR_BURST)
      printTable(`ACP broadcast to ${clients} clients, until the last one has it, ${rounds} rounds (target: < 20 ms)`, broadcast, FLOOR_BC)
    }
    return figures
  } finally {
    for (const close of closers) await close()
    await floor.stop()
    await own?.stop()
  }
}

/** The child process side: a bare echo/publish server, or a standalone AcpServer. */
async function serve(kind: string): Promise<void> {
  if (kind === "echo") {
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("upgrade", { status: 426 })),
      websocket: {
        open: (ws) => void ws.subscribe("all"),
        message(ws, msg) {
          // Requests are echoed; a broadcast is published to everyone else.
          if (typeof msg === "string" && msg.includes('"method":"broadcast"') && !msg.includes('"id"')) ws.publish("all", msg)
          else ws.send(msg)
        },
      },
    })
    console.log(`ws://127.0.0.1:${server.port}/ -`)
    return
  }
  const key = "bench-key-0123456789"
  const server = new AcpServer({ port: 0, authenticate: (k) => (k === key ? { id: "bench" } : null), log: quiet })
  await server.listen()
  console.log(`${server.url} ${key}`)
}

if (import.meta.main) {
  const i = process.argv.indexOf("--serve")
  if (i >= 0) await serve(process.argv[i + 1] ?? "")
  else await benchDaemonAcp({ requests: Number(process.argv[2] ?? 5000) })
}
