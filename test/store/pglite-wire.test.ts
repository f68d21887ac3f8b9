import { expect, test } from "bun:test"
import postgres from "postgres"
import { openPostgres } from "../../src/store/postgres"
import { pgliteMemory } from "../support/postgres"
import { servePgliteWire } from "../support/pglite-wire"

// PGlite over the wire to a postgres.js pool of several connections
// (test/support/pglite-wire.ts): each connection's extended-protocol
// sequence runs whole and a transaction keeps the session, so concurrent
// queries get their own answers; past the server's connection limit a client
// gets SQLSTATE 53300 instead of hanging (what @electric-sql/pglite-socket
// 0.2.17 does: it writes plain text that postgres.js waits on forever).

test("a pool of 4 connections: 200 concurrent queries of different shapes each get their own answer, transactions stay whole", { timeout: 60_000 }, async () => {
  const db = await pgliteMemory()
  const wire = await servePgliteWire(db.db)
  const sql = await openPostgres({ url: wire.url, max: 4 })
  try {
    const answers = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const rows =
          i % 3 === 0
            ? await sql.query<{ a: number; b: string }>(`SELECT $1::int AS a, $2::text AS b`, [i, `x${i}`])
            : i % 3 === 1
              ? await sql.query<{ a: number }>(`SELECT $1::int + 1000 AS a`, [i])
              : await sql.query<{ a: number; b: string }>(`SELECT length($1::text) AS a, 'long' AS b`, ["y".repeat(50_000 + i)])
        return [i, rows[0] as Record<string, unknown>] as const
      }),
    )
    for (const [i, r] of answers) {
      if (i % 3 === 0) expect(r).toEqual({ a: i, b: `x${i}` })
      else if (i % 3 === 1) expect(r).toEqual({ a: i + 1000 })
      else expect(r).toEqual({ a: 50_000 + i, b: "long" })
    }
    expect(wire.connections()).toBeGreaterThan(1) // the pool really used several connections
    await sql.exec(`CREATE TABLE wire_t (v int)`)
    // each transaction sees its own insert and nothing of the others' until they commit; one rolls back
    const seen = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        sql
          .transaction(async (tx) => {
            await tx.query(`INSERT INTO wire_t VALUES ($1)`, [i])
            const [r] = await tx.query<{ mine: number }>(`SELECT count(*) FILTER (WHERE v = $1)::int AS mine FROM wire_t`, [i])
            if (i === 7) throw new Error("roll back")
            return r!.mine
          })
          .catch((e: Error) => e.message),
      ),
    )
    expect(seen).toEqual([1, 1, 1, 1, 1, 1, 1, "roll back"])
    const [n] = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM wire_t`)
    expect(n!.n).toBe(7)
  } finally {
    await sql.close()
    await wire.close()
    await db.close()
  }
})

test("past the connection limit a client gets a protocol error (53300 too_many_connections), not a hang", { timeout: 30_000 }, async () => {
  const db = await pgliteMemory()
  const wire = await servePgliteWire(db.db, { maxConnections: 1 })
  const first = postgres(wire.url, { max: 1, onnotice: () => {} })
  const second = postgres(wire.url, { max: 1, onnotice: () => {}, connect_timeout: 10 })
  try {
    expect((await first`SELECT 1 AS x`)[0]).toEqual({ x: 1 })
    const err = await second`SELECT 2 AS x`.then(
      () => null,
      (e: { code?: string; message: string }) => e,
    )
    expect(err?.code).toBe("53300")
    expect(err?.message).toContain("too many clients")
  } finally {
    await first.end()
    await second.end()
    await wire.close()
    await db.close()
  }
})
