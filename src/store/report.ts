import { existsSync } from "node:fs"
import { MIGRATIONS } from "./migrations"
import { migrationStatus, type MigrationStatus } from "./migrate"
import type { Engine } from "./sql"
import { vectorSupport, type VectorSupport } from "./vector-support"
import { openSql, openStore, type StoreOptions } from "./store"
import { paths } from "../paths"

// What `cca db status|migrate` report: the engine, where the data lives,
// pgvector, and every migration's state.

export type StoreReport = {
  engine: Engine
  location: string
  /** False for an embedded store whose directory does not exist yet (nothing was opened or created). */
  initialised: boolean
  pgvector: string | null
  /** Off on a PostgreSQL without pgvector: why, the fix, and the features that are off. */
  vectors: { available: boolean; reason?: string; hint?: string; off: string[] }
  migrations: MigrationStatus[]
  /** Names applied by this call (migrate only). */
  applied: string[]
}

export async function storeStatus(opts: StoreOptions): Promise<StoreReport> {
  if (!opts.postgresUrl && opts.dataDir !== "memory") {
    const dir = opts.dataDir ?? paths.pgDataDir()
    if (!existsSync(dir)) {
      const migrations = MIGRATIONS.map((m) => ({ version: m.version, name: m.name, state: "pending" as const, checksum: "" }))
      return { engine: "pglite", location: dir, initialised: false, pgvector: null, vectors: { available: true, off: [] }, migrations, applied: [] }
    }
  }
  const { sql, location, vectorsMissing } = await openSql(opts)
  try {
    const [vector] = await sql.query<{ v: string }>("SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'")
    const migrations = await migrationStatus(sql, MIGRATIONS, { pgvector: !vectorsMissing })
    const support = vectorSupport(vector?.v, vectorsMissing, { applied: [], skipped: migrations.filter((m) => m.state === "skipped").map((m) => m.name), status: migrations })
    return { engine: sql.engine, location, initialised: true, pgvector: vector?.v ?? null, vectors: vectorsOf(support), migrations, applied: [] }
  } finally {
    await sql.close()
  }
}

export async function storeMigrate(opts: StoreOptions): Promise<StoreReport> {
  const store = await openStore({ ...opts, migrate: true })
  try {
    return {
      engine: store.engine,
      location: store.location,
      initialised: true,
      pgvector: store.pgvector ?? null,
      vectors: vectorsOf(store.vectors),
      migrations: store.migrated?.status ?? [],
      applied: store.migrated?.applied ?? [],
    }
  } finally {
    await store.close()
  }
}

function vectorsOf(v: VectorSupport): StoreReport["vectors"] {
  return v.available ? { available: true, off: [] } : { available: false, reason: v.reason, hint: v.hint, off: v.off }
}
