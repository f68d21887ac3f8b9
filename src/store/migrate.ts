import { defineError, ExitCode } from "../errors"
import { MIGRATIONS, type Migration } from "./migrations"
import type { Queryable, Sql } from "./sql"

// Applies migrations in version order, each in its own transaction, and
// records each with a checksum of its text. A migration whose text changed
// after it was applied, or a database migrated by a newer build, is an error:
// the schema would no longer be what this code expects.
//
// A migration declared `pgvector: true` (migrations.ts) is "skipped" on a
// server without the extension: it is neither pending nor an error, and it is
// applied by the first migrate that finds pgvector there.

export const MigrationError = defineError("migration", { exitCode: ExitCode.config, status: 500 })

export type MigrationState = "applied" | "pending" | "skipped" | "changed" | "unknown"

export type MigrationStatus = {
  version: number
  name: string
  state: MigrationState
  checksum: string
  appliedAt?: Date
  /** Why a skipped migration did not run ("needs pgvector"). */
  reason?: string
}

export type MigrateOptions = {
  /** Whether the server has pgvector. Default: whether `vector` is in pg_available_extensions. */
  pgvector?: boolean
}

type AppliedRow = { version: number; name: string; checksum: string; applied_at: Date }

// Any constant: the advisory lock that keeps two daemons from migrating one database at once.
const LOCK_KEY = 0x63636131 // "cca1"

/** sha256 of the text, line endings normalised (a Windows checkout must not look "changed"). */
export function checksum(sql: string): string {
  return new Bun.CryptoHasher("sha256").update(sql.replace(/\r\n/g, "\n")).digest("hex")
}

async function appliedRows(db: Queryable): Promise<AppliedRow[]> {
  const [exists] = await db.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t")
  if (!exists?.t) return []
  return db.query<AppliedRow>("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
}

/** Whether the server could load pgvector (installed, or available to CREATE EXTENSION). */
export async function pgvectorAvailable(db: Queryable): Promise<boolean> {
  const [row] = await db.query<{ ok: boolean }>("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS ok")
  return row?.ok === true
}

/** Every known and every applied migration, with its state. Reads only. */
export async function migrationStatus(db: Queryable, migrations: readonly Migration[] = MIGRATIONS, opts: MigrateOptions = {}): Promise<MigrationStatus[]> {
  const applied = new Map((await appliedRows(db)).map((r) => [Number(r.version), r]))
  const vectors = opts.pgvector ?? (migrations.some((m) => m.pgvector && !applied.has(m.version)) ? await pgvectorAvailable(db) : true)
  const out: MigrationStatus[] = migrations.map((m) => {
    const row = applied.get(m.version)
    const sum = checksum(m.sql)
    if (!row && m.pgvector && !vectors) return { version: m.version, name: m.name, state: "skipped", checksum: sum, reason: "needs pgvector" }
    if (!row) return { version: m.version, name: m.name, state: "pending", checksum: sum }
    return { version: m.version, name: m.name, state: row.checksum === sum ? "applied" : "changed", checksum: sum, appliedAt: row.applied_at }
  })
  const known = new Set(migrations.map((m) => m.version))
  for (const [version, row] of applied) {
    if (!known.has(version)) out.push({ version, name: row.name, state: "unknown", checksum: row.checksum, appliedAt: row.applied_at })
  }
  return out.sort((a, b) => a.version - b.version)
}

function assertConsistent(status: MigrationStatus[]): void {
  const changed = status.filter((s) => s.state === "changed")
  if (changed.length > 0) {
    throw new MigrationError(`applied migration${changed.length > 1 ? "s" : ""} ${changed.map((s) => s.name).join(", ")} changed since ${changed.length > 1 ? "they were" : "it was"} applied`, {
      hint: "restore the original migration file and put schema changes in a new migrations/NNNN_name.sql",
      details: changed.map((s) => ({ version: s.version, name: s.name })),
    })
  }
  const unknown = status.filter((s) => s.state === "unknown")
  if (unknown.length > 0) {
    throw new MigrationError(`the database has migration${unknown.length > 1 ? "s" : ""} ${unknown.map((s) => s.name).join(", ")} that this build does not know`, {
      hint: "the database was migrated by a newer cca: run that version (or a newer one) against it",
      details: unknown.map((s) => ({ version: s.version, name: s.name })),
    })
  }
}

export type MigrateResult = {
  applied: string[]
  /** Migrations left out because the server has no pgvector. */
  skipped: string[]
  status: MigrationStatus[]
}

export async function migrate(db: Sql, migrations: readonly Migration[] = MIGRATIONS, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const before = await migrationStatus(db, migrations, opts)
  assertConsistent(before)
  const applied: string[] = []
  for (const m of migrations) {
    if (before.find((s) => s.version === m.version)?.state !== "pending") continue
    const sum = checksum(m.sql)
    const started = performance.now()
    const ran = await db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1)", [LOCK_KEY])
      await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(), duration_ms integer)`)
      // Another daemon may have applied it while this one waited for the lock.
      const [row] = await tx.query<{ checksum: string }>("SELECT checksum FROM schema_migrations WHERE version = $1", [m.version])
      if (row) {
        if (row.checksum !== sum) assertConsistent([{ version: m.version, name: m.name, state: "changed", checksum: sum }])
        return false
      }
      try {
        await tx.exec(m.sql)
      } catch (e) {
        throw new MigrationError(`migration ${m.name} failed: ${e instanceof Error ? e.message : String(e)}`, {
          hint: "nothing of it was applied (it ran in a transaction); fix the cause above and run `cca db migrate` again",
          cause: e,
        })
      }
      await tx.query("INSERT INTO schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)", [
        m.version,
        m.name,
        sum,
        Math.round(performance.now() - started),
      ])
      return true
    })
    if (ran) applied.push(m.name)
  }
  const skipped = before.filter((s) => s.state === "skipped").map((s) => s.name)
  return { applied, skipped, status: applied.length > 0 ? await migrationStatus(db, migrations, opts) : before }
}
