import { afterAll, beforeAll, expect, test } from "bun:test"
import { ConfigError, NetworkError } from "../../src/errors"
import { migrate, migrationStatus } from "../../src/store/migrate"
import { MIGRATIONS, type Migration } from "../../src/store/migrations"
import { openPostgres } from "../../src/store/postgres"
import type { Sql } from "../../src/store/sql"
import { openStore } from "../../src/store/store"
import { taskRepo } from "../../src/store/tasks"
import { requireVectors, VectorsUnavailableError } from "../../src/store/vector-support"
import { createDatabase, pgliteMemory, serveOverWire, startPostgres, type PostgresServer } from "../support/postgres"

// What PGlite cannot show. A real PostgreSQL (Debian's, which has no
// pgvector here) runs transactions truly concurrently, so it can prove that
// claims skip locked rows instead of waiting for them; and it is a server
// without pgvector, on which the store opens with vectors off (the
// migrations that need pgvector skipped). Most tests apply only 0001.

let pg: PostgresServer
const CORE = MIGRATIONS.slice(0, 1)

beforeAll(async () => {
  pg = await startPostgres()
}, 120_000)
afterAll(async () => {
  await pg?.close()
})

async function coreDatabase(name: string): Promise<string> {
  const url = await createDatabase(pg, name)
  const sql = await openPostgres({ url, max: 1 })
  try {
    await migrate(sql, CORE)
  } finally {
    await sql.close()
  }
  return url
}

async function clients(url: string, n: number): Promise<Sql[]> {
  return Promise.all(Array.from({ length: n }, () => openPostgres({ url, max: 1 })))
}

test("a server without pgvector opens with vectors off: its migrations skipped, tasks working, vector features a 503 with the hint", async () => {
  const url = await createDatabase(pg, "novector")
  const store = await openStore({ postgresUrl: url, postgresPool: 2 })
  try {
    expect(store.pgvector).toBeUndefined()
    const needVectors = MIGRATIONS.filter((m) => m.pgvector).map((m) => m.name)
    expect(needVectors).toContain("0002_vectors")
    expect(store.vectors).toMatchObject({ available: false, off: ["memory"], skipped: needVectors })
    expect(store.vectors.reason).toContain("has no pgvector")
    expect(store.vectors.reason).not.toContain("postgres://") // no credentials in messages
    expect(store.vectors.hint).toContain("install pgvector")
    // every migration that does not need pgvector is applied (0008 and the others after 0002 too)
    expect(store.migrated?.applied).toEqual(MIGRATIONS.filter((m) => !m.pgvector).map((m) => m.name))
    expect(store.migrated?.status.map((m) => [m.name, m.state, m.reason])).toEqual(MIGRATIONS.map((m) => (m.pgvector ? [m.name, "skipped", "needs pgvector"] : [m.name, "applied", undefined])))
    expect(await store.sql.query("SELECT to_regclass('patterns')::text AS t")).toEqual([{ t: null }])
    // Everything else works.
    const t = (await store.tasks.create({ description: "runs without vectors" })).task
    expect((await store.tasks.claimNext({ owner: "d" }))?.task.id).toBe(t.id)
    const err = (() => {
      try {
        requireVectors(store.vectors, "memory search")
      } catch (e) {
        return e as InstanceType<typeof VectorsUnavailableError>
      }
    })()
    expect(err).toBeInstanceOf(VectorsUnavailableError)
    expect(err).toMatchObject({ code: "vectors_unavailable", status: 503, exitCode: 5 })
    expect(err!.message).toContain("memory search is off: PostgreSQL at")
    expect(err!.hint).toContain("install pgvector")
    // A later migration that needs no pgvector still applies; the skipped one stays skipped, not pending.
    const later: Migration[] = [...MIGRATIONS, { version: 99, name: "0099_plain", sql: "CREATE TABLE plain_later (x int)" }]
    const again = await migrate(store.sql, later, { pgvector: false })
    expect(again.applied).toEqual(["0099_plain"])
    expect(again.skipped).toEqual(needVectors)
    expect((await migrationStatus(store.sql, later)).map((m) => m.state)).toEqual([...MIGRATIONS.map((m) => (m.pgvector ? "skipped" : "applied")), "applied"]) // detected: vector is not in pg_available_extensions
    await store.sql.exec("DROP TABLE plain_later; DELETE FROM schema_migrations WHERE version = 99")
  } finally {
    await store.close()
  }
  // A second open is quiet about migrations (nothing pending) and still reports vectors off.
  const reopened = await openStore({ postgresUrl: url, postgresPool: 1 })
  try {
    expect(reopened.migrated?.applied).toEqual([])
    expect(reopened.vectors.available).toBe(false)
  } finally {
    await reopened.close()
  }
})

test("an unreachable server is a NetworkError; a missing database a ConfigError", async () => {
  const closed = await openPostgres({ url: "postgres://u:secret@127.0.0.1:1/db", connectTimeoutSec: 2 }).catch((e) => e)
  expect(closed).toBeInstanceOf(NetworkError)
  expect(closed.message).toContain("127.0.0.1:1/db")
  expect(closed.message).not.toContain("secret")
  const missing = await openPostgres({ url: pg.url.replace(/\/postgres$/, "/no_such_db") }).catch((e) => e)
  expect(missing).toBeInstanceOf(ConfigError)
  expect(missing.hint).toContain("createdb")
  expect(await openPostgres({ url: "mysql://x" }).catch((e) => e)).toBeInstanceOf(ConfigError)
})

test("claims skip locked rows: while one claimer's transaction holds a task, another takes the next one without waiting", { timeout: 60_000 }, async () => {
  const url = await coreDatabase("skiplocked")
  const [a, b] = await clients(url, 2)
  try {
    const first = (await taskRepo(a!).create({ description: "first", priority: 1 })).task
    const second = (await taskRepo(a!).create({ description: "second" })).task
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let claimedInTx: string | undefined
    let heldOpen!: () => void
    const holding = new Promise<void>((r) => (heldOpen = r))
    const txDone = a!.transaction(async (tx) => {
      claimedInTx = (await taskRepo(tx).claimNext({ owner: "daemon-a" }))?.task.id
      heldOpen()
      await gate // the row stays locked, its update uncommitted
    })
    await holding
    expect(claimedInTx).toBe(first.id)
    // B is answered while A's transaction is still open: it skipped the locked row.
    const other = await taskRepo(b!).claimNext({ owner: "daemon-b" })
    expect(other?.task.id).toBe(second.id)
    expect(await taskRepo(b!).claimNext({ owner: "daemon-b" })).toBeUndefined()
    release()
    await txDone
    expect((await taskRepo(b!).get(first.id))?.ownerDaemon).toBe("daemon-a")
  } finally {
    await Promise.all([a!.close(), b!.close()])
  }
})

test("four daemons claiming at once take every task exactly once", { timeout: 60_000 }, async () => {
  const url = await coreDatabase("claimrace")
  const conns = await clients(url, 4)
  try {
    const ids = new Set<string>()
    for (let i = 0; i < 60; i++) ids.add((await taskRepo(conns[0]!).create({ description: `t${i}`, priority: i % 3 })).task.id)
    const claimed = await Promise.all(
      conns.map(async (c, n) => {
        const mine: string[] = []
        for (;;) {
          const t = await taskRepo(c).claimNext({ owner: `daemon-${n}` })
          if (!t) return mine
          mine.push(t.task.id)
        }
      }),
    )
    const all = claimed.flat()
    expect(all.length).toBe(60)
    expect(new Set(all)).toEqual(ids)
    expect(claimed.filter((m) => m.length > 0).length).toBeGreaterThan(1) // they really ran side by side
    const counts = await taskRepo(conns[0]!).counts()
    expect(counts.running).toBe(60)
    const attempts = await conns[0]!.query<{ n: number }>("SELECT count(*)::int AS n FROM tasks WHERE attempts <> 1")
    expect(attempts[0]!.n).toBe(0)
  } finally {
    await Promise.all(conns.map((c) => c.close()))
  }
})

test("two daemons migrating one database at once: applied once", { timeout: 60_000 }, async () => {
  const url = await createDatabase(pg, "migrace")
  const [a, b] = await clients(url, 2)
  try {
    const [ra, rb] = await Promise.all([migrate(a!, CORE), migrate(b!, CORE)])
    expect([...ra.applied, ...rb.applied]).toEqual(["0001_core"])
    expect(await a!.query("SELECT version FROM schema_migrations")).toEqual([{ version: 1 }])
  } finally {
    await Promise.all([a!.close(), b!.close()])
  }
})

test("PGlite over the wire serialises connections: concurrent claimers still never share a task", { timeout: 120_000 }, async () => {
  const db = await pgliteMemory()
  const wire = await serveOverWire(db, { maxConnections: 2 })
  const conns = await clients(wire.url, 2)
  try {
    for (let i = 0; i < 20; i++) await taskRepo(conns[0]!).create({ description: `t${i}` })
    const claimed = await Promise.all(
      conns.map(async (c) => {
        const mine: string[] = []
        for (let t = await taskRepo(c).claimNext({ owner: "d" }); t; t = await taskRepo(c).claimNext({ owner: "d" })) mine.push(t.task.id)
        return mine
      }),
    )
    expect(new Set(claimed.flat()).size).toBe(20)
    expect(claimed.flat().length).toBe(20)
  } finally {
    await Promise.all(conns.map((c) => c.close()))
    await wire.close()
    await db.close()
  }
})
