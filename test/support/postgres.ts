import { afterAll, beforeAll, beforeEach, describe } from "bun:test"
import { existsSync, readdirSync } from "node:fs"
import { chown, mkdir, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { migrate } from "../../src/store/migrate"
import type { Migration } from "../../src/store/migrations"
import { openPglite, type PgliteSql } from "../../src/store/pglite"
import { openPostgres } from "../../src/store/postgres"
import type { Sql } from "../../src/store/sql"
import { freePort } from "./ports"

// The real SQL engines for tests:
// - PGlite in this process;
// - PGlite served over the Postgres wire protocol, for the postgres.js path;
// - a throwaway PostgreSQL cluster (Debian's postgresql, no pgvector) for
//   what PGlite cannot show: concurrent transactions, a missing extension.
// Each fails loudly when it cannot start; nothing here skips.

/** A migrated in-memory PGlite. */
export async function pgliteMemory(migrations?: readonly Migration[]): Promise<PgliteSql> {
  const sql = await openPglite()
  await migrate(sql, migrations)
  return sql
}

export type WireServer = { url: string; close(): Promise<void> }

/** Serve a PGlite over the wire protocol on a free loopback port. */
export async function serveOverWire(db: PgliteSql, opts: { maxConnections?: number } = {}): Promise<WireServer> {
  const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket")
  const server = new PGLiteSocketServer({ db: db.db, host: "127.0.0.1", port: 0, maxConnections: opts.maxConnections ?? 1 })
  await server.start()
  const conn = server.getServerConn()
  return {
    url: `postgres://postgres@${conn}/postgres`,
    close: () => server.stop(),
  }
}

/** The SQL engines every repository test runs on. */
export type EngineUnderTest = { name: string; sql: Sql; close(): Promise<void> }

export const ENGINES = ["pglite", "postgres.js over the wire"] as const

export async function openEngine(name: (typeof ENGINES)[number]): Promise<EngineUnderTest> {
  const db = await pgliteMemory()
  if (name === "pglite") return { name, sql: db, close: () => db.close() }
  // ENVIRONMENT.md: postgres.js hung with several connections; one works.
  const wire = await serveOverWire(db)
  const sql = await openPostgres({ url: wire.url, max: 1 })
  return {
    name,
    sql,
    async close() {
      await sql.close()
      await wire.close()
      await db.close()
    },
  }
}

/**
 * Run the same tests on every engine: one migrated database per engine for
 * the file, emptied before each test. `sql()` is the engine under test.
 */
export function eachEngine(body: (sql: () => Sql, engine: () => string) => void): void {
  for (const name of ENGINES) {
    describe(name, () => {
      let e: EngineUnderTest | undefined
      beforeAll(async () => {
        e = await openEngine(name)
      }, 120_000)
      afterAll(async () => {
        await e?.close()
      })
      beforeEach(async () => {
        await truncateAll(e!.sql)
      })
      body(
        () => e!.sql,
        () => name,
      )
    })
  }
}

/** Empty every table the repositories write, between tests. */
export async function truncateAll(sql: Sql): Promise<void> {
  await sql.exec("TRUNCATE task_events, tasks, agents, daemons, bus_messages, rl_experiences, rl_models, context_snapshots, patterns, code_chunks, code_files, indexing_jobs RESTART IDENTITY CASCADE")
}

// ---- a throwaway PostgreSQL cluster ----

function postgresBin(): string {
  const root = "/usr/lib/postgresql"
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : []
  for (const v of versions) if (existsSync(join(root, v, "bin", "initdb"))) return join(root, v, "bin")
  throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql: apt-get install -y postgresql (see .ci/run)")
}

function run(cmd: string[], asPostgres: boolean): void {
  const full = asPostgres ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd
  const r = Bun.spawnSync(full, { stdout: "pipe", stderr: "pipe" })
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${r.exitCode}): ${r.stderr.toString()}${r.stdout.toString()}`)
}

export type PostgresServer = {
  url: string
  version: string
  /** Stop the server (fast shutdown: connections are cut), keeping its data. */
  stop(): Promise<void>
  /** Start it again on the same port and data. */
  start(): Promise<void>
  close(): Promise<void>
}

/** initdb + pg_ctl start on a free port, trust auth on loopback. Postgres refuses root, so as root it runs as `postgres`. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBin()
  const asPostgres = process.getuid?.() === 0
  const dir = await mkdtemp(join(tmpdir(), "cca-pg-"))
  const data = join(dir, "data")
  await mkdir(data, { mode: 0o700 })
  if (asPostgres) {
    const { uid, gid } = userIds("postgres")
    await chown(dir, uid, gid)
    await chown(data, uid, gid)
  }
  const port = freePort()
  run([join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], asPostgres)
  const start = () =>
    run(
      [join(bin, "pg_ctl"), "-D", data, "-l", join(dir, "log"), "-w", "-t", "60", "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"],
      asPostgres,
    )
  start()
  let up = true
  const version = Bun.spawnSync([join(bin, "postgres"), "--version"]).stdout.toString().trim()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    version,
    async stop() {
      run([join(bin, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"], asPostgres)
      up = false
    },
    async start() {
      start()
      up = true
    },
    async close() {
      try {
        if (up) run([join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"], asPostgres)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    },
  }
}

function userIds(name: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(Bun.spawnSync(["id", flag, name]).stdout.toString().trim())
  const uid = id("-u")
  if (!Number.isInteger(uid) || uid <= 0) throw new Error(`no "${name}" user: apt-get install -y postgresql creates it`)
  return { uid, gid: id("-g") }
}

/** A fresh database on a running server, for one test file. */
export async function createDatabase(server: PostgresServer, name: string): Promise<string> {
  const admin = await openPostgres({ url: server.url, max: 1 })
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`)
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.close()
  }
  return server.url.replace(/\/postgres$/, `/${name}`)
}
