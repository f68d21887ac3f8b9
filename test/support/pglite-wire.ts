import { createServer, type Socket } from "node:net"
import type { PGlite } from "@electric-sql/pglite"

// PGlite served over the PostgreSQL wire protocol to several connections at
// once (postgres.js with a pool), for tests.
//
// Problem: PGlite is one backend session. @electric-sql/pglite-socket (0.2.x)
// queues the wire messages of all connections one message at a time, so a
// connection's Parse, Bind, Describe, Execute and Sync can have another
// connection's messages between them. The unnamed statement and portal are
// the session's, not the connection's: with postgres.js at `max: 4`,
// concurrent queries bound or executed each other's statements (answers
// mixed, or "bind message supplies N parameters, but prepared statement
// requires M"), and a connection past its maxConnections got plain text
// instead of a protocol error and hung.
// Fix: a connection's messages run as units that end at Sync, Query or
// Terminate (one `execProtocolRawStream` each, under PGlite's own lock), and
// one connection owns the session from the first message of an extended
// sequence (up to its Sync, and past a Flush) and for as long as the session
// is in a transaction after its unit; other connections wait their turn.
// What stays shared (it is one session): session-level SET, prepared
// statements by name (postgres.js names them per connection at random, so
// they do not clash), temporary tables, LISTEN. Use SET LOCAL.

const SSL_REQUEST = 80877103
const CANCEL_REQUEST = 80877102

type Conn = { socket: Socket; buf: Buffer; started: boolean; pending: Buffer[]; closed: boolean }

export type PgliteWire = { url: string; port: number; connections(): number; close(): Promise<void> }

export async function servePgliteWire(db: PGlite, opts: { host?: string; maxConnections?: number } = {}): Promise<PgliteWire> {
  const host = opts.host ?? "127.0.0.1"
  const max = opts.maxConnections ?? 16
  const conns = new Set<Conn>()
  let owner: Conn | null = null
  const waiting: (() => void)[] = []

  const release = (c: Conn) => {
    if (owner !== c) return
    owner = null
    waiting.shift()?.()
  }
  const acquire = async (c: Conn) => {
    while (owner !== null && owner !== c) await new Promise<void>((r) => waiting.push(r))
    owner = c
  }

  async function run(c: Conn, unit: Buffer, ends: "sync" | "flush" | "terminate"): Promise<void> {
    await acquire(c)
    try {
      if (ends === "terminate") return
      await db.runExclusive(() =>
        db.execProtocolRawStream(new Uint8Array(unit), {
          onRawData: (d: Uint8Array) => {
            if (!c.closed && d.length) c.socket.write(Buffer.from(d))
          },
        }),
      )
    } finally {
      // hold the session through an extended sequence (Flush, no Sync yet) and an open transaction
      if (c.closed || (ends === "sync" && !db.isInTransaction())) release(c)
    }
  }

  function frames(c: Conn): { unit: Buffer; ends: "sync" | "flush" | "terminate" }[] {
    const out: { unit: Buffer; ends: "sync" | "flush" | "terminate" }[] = []
    for (;;) {
      if (!c.started) {
        if (c.buf.length < 8) break
        const len = c.buf.readInt32BE(0)
        const code = c.buf.readInt32BE(4)
        if (c.buf.length < len) break
        const msg = c.buf.subarray(0, len)
        c.buf = c.buf.subarray(len)
        if (code === SSL_REQUEST) {
          c.socket.write("N")
          continue
        }
        if (code === CANCEL_REQUEST) continue // not supported: the query runs to its end
        c.started = true
        out.push({ unit: Buffer.from(msg), ends: "sync" })
        continue
      }
      if (c.buf.length < 5) break
      const type = String.fromCharCode(c.buf[0]!)
      const len = 1 + c.buf.readInt32BE(1)
      if (c.buf.length < len) break
      c.pending.push(Buffer.from(c.buf.subarray(0, len)))
      c.buf = c.buf.subarray(len)
      if (type === "S" || type === "Q" || type === "H" || type === "X") {
        out.push({ unit: Buffer.concat(c.pending), ends: type === "H" ? "flush" : type === "X" ? "terminate" : "sync" })
        c.pending = []
      }
    }
    return out
  }

  const server = createServer((socket) => {
    if (conns.size >= max) {
      // an ErrorResponse a client understands (SQLSTATE 53300 too_many_connections), not plain text
      const fields = Buffer.from(`SFATAL\0C53300\0Msorry, too many clients already (this PGlite serves ${max} connections)\0\0`)
      const head = Buffer.alloc(5)
      head.write("E", 0)
      head.writeInt32BE(4 + fields.length, 1)
      // answered once the client has sent its startup message, as PostgreSQL does
      socket.once("data", () => void socket.end(Buffer.concat([head, fields])))
      socket.on("error", () => {})
      return
    }
    const c: Conn = { socket, buf: Buffer.alloc(0), started: false, pending: [], closed: false }
    conns.add(c)
    socket.setNoDelay(true)
    let chain = Promise.resolve()
    socket.on("data", (data) => {
      c.buf = Buffer.concat([c.buf, data])
      for (const f of frames(c)) {
        chain = chain.then(() => run(c, f.unit, f.ends)).catch(() => void socket.destroy())
        if (f.ends === "terminate") chain = chain.then(() => void socket.end())
      }
    })
    const gone = () => {
      if (c.closed) return
      c.closed = true
      conns.delete(c)
      chain = chain.then(async () => {
        if (owner === c) {
          if (db.isInTransaction()) await db.exec("ROLLBACK").catch(() => {})
          release(c)
        }
      })
    }
    socket.on("close", gone)
    socket.on("error", gone)
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, host, () => resolve())
  })
  const port = (server.address() as { port: number }).port
  return {
    url: `postgres://postgres@${host}:${port}/postgres`,
    port,
    connections: () => conns.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.socket.destroy()
        server.close(() => resolve())
      }),
  }
}
