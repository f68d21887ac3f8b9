import { paths } from "../paths"
import { agentRepo, type AgentRepo } from "./agents"
import { daemonRepo, type DaemonRepo } from "./daemons"
import { migrate, type MigrateResult } from "./migrate"
import { MIGRATIONS } from "./migrations"
import type { Engine, Queryable, Sql } from "./sql"
import { eventRepo, type EventRepo } from "./task-events"
import { taskRepo, type TaskRepo } from "./tasks"
import { vectorSupport, type VectorMissing, type VectorSupport } from "./vector-support"

// Opening the store: pick the engine from config, check its prerequisites,
// migrate, and hand out the repositories. Both engines load lazily, so
// importing this file costs nothing until a store is opened.

export type StoreOptions = {
  /** PostgreSQL URL (postgres.url). Unset: the embedded PGlite. */
  postgresUrl?: string
  /** postgres.js pool size (postgres.pool). */
  postgresPool?: number
  /** PGlite data directory. Default paths.pgDataDir(); "memory" keeps it in memory (tests, benchmarks). */
  dataDir?: string
  /** Apply pending migrations on open. Default true. */
  migrate?: boolean
}

export type Repos = {
  tasks: TaskRepo
  events: EventRepo
  agents: AgentRepo
  daemons: DaemonRepo
}

export type StoreHealth = { state: "ok" | "down"; engine: Engine; latencyMs?: number; error?: string }

export type Store = Repos & {
  readonly engine: Engine
  readonly sql: Sql
  /** Where the data lives: the PGlite directory ("memory") or host:port/db. */
  readonly location: string
  /** pgvector's version, as installed in the database. */
  readonly pgvector: string | undefined
  /**
   * Whether vectors work here. Off on a PostgreSQL without pgvector: the
   * migrations that need it were skipped, and what they carry (memory, code
   * vectors) must answer 503 (`requireVectors(store.vectors, "memory search")`).
   */
  readonly vectors: VectorSupport
  /** What migrate-on-open applied (empty when nothing was pending or migrate was off). */
  readonly migrated: MigrateResult | undefined
  /** Run `fn` with repositories bound to one transaction. */
  transaction<R>(fn: (repos: Repos) => Promise<R>): Promise<R>
  /** One round trip, for /health. Never throws. */
  health(timeoutMs?: number): Promise<StoreHealth>
  close(): Promise<void>
}

/** Repositories over any Queryable: the store, or an open transaction. */
export function repos(db: Queryable): Repos {
  return { tasks: taskRepo(db), events: eventRepo(db), agents: agentRepo(db), daemons: daemonRepo(db) }
}

export type OpenedSql = { sql: Sql; location: string; pgvector?: string; vectorsMissing?: VectorMissing }

export async function openSql(opts: StoreOptions = {}): Promise<OpenedSql> {
  if (opts.postgresUrl) {
    const { describeUrl, probePgvector, openPostgres } = await import("./postgres")
    const location = describeUrl(opts.postgresUrl)
    const sql = await openPostgres({ url: opts.postgresUrl, max: opts.postgresPool })
    try {
      const probe = await probePgvector(sql, location)
      return "version" in probe ? { sql, location, pgvector: probe.version } : { sql, location, vectorsMissing: probe.missing }
    } catch (e) {
      await sql.close()
      throw e
    }
  }
  const { openPglite } = await import("./pglite")
  const memory = opts.dataDir === "memory"
  const dataDir = memory ? undefined : (opts.dataDir ?? paths.pgDataDir())
  return { sql: await openPglite({ dataDir }), location: dataDir ?? "memory" }
}

export async function openStore(opts: StoreOptions = {}): Promise<Store> {
  const { sql, location, pgvector, vectorsMissing } = await openSql(opts)
  let migrated: MigrateResult | undefined
  let version = pgvector
  try {
    if (opts.migrate !== false) migrated = await migrate(sql, MIGRATIONS, { pgvector: !vectorsMissing })
    version ??= await vectorVersion(sql)
  } catch (e) {
    await sql.close()
    throw e
  }
  return {
    ...repos(sql),
    engine: sql.engine,
    sql,
    location,
    pgvector: version,
    vectors: vectorSupport(version, vectorsMissing, migrated),
    migrated,
    transaction: (fn) => sql.transaction((tx) => fn(repos(tx))),
    health: (timeoutMs = 2000) => health(sql, timeoutMs),
    close: () => sql.close(),
  }
}

async function vectorVersion(sql: Queryable): Promise<string | undefined> {
  const [row] = await sql.query<{ v: string }>("SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'")
  return row?.v
}

async function health(sql: Sql, timeoutMs: number): Promise<StoreHealth> {
  const started = performance.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([
      sql.query("SELECT 1"),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
      }),
    ])
    return { state: "ok", engine: sql.engine, latencyMs: Math.round((performance.now() - started) * 100) / 100 }
  } catch (e) {
    return { state: "down", engine: sql.engine, error: e instanceof Error ? e.message : String(e) }
  } finally {
    clearTimeout(timer)
  }
}
