import { existsSync } from "node:fs"
import { MIGRATIONS } from "./migrations"
import { migrationStatus, type MigrationStatus } from "./migrate"
import type { Engine } from "./sql"
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
  migrations: MigrationStatus[]
  /** Names applied by this call (migrate only). */
  applied: string[]
}

export async function storeStatus(opts: StoreOptions): Promise<StoreReport> {
  if (!opts.postgresUrl && opts.dataDir !== "memory") {
    const dir = opts.dataDir ?? paths.pgDataDir()
    if (!existsSync(dir)) {
      const migrations = MIGRATIONS.map((m) => ({ version: m.version, name: m.name, state: "pending" as const, checksum: "" }))
      return { engine: "pglite", location: dir, initialised: false, pgvector: null, migrations, applied: [] }
    }
  }
  const { sql, location } = await openSql(opts)
  try {
    const [vector] = await sql.query<{ v: string }>("SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'")
    return { engine: sql.engine, location, initialised: true, pgvector: vector?.v ?? null, migrations: await migrationStatus(sql), applied: [] }
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
      migrations: store.migrated?.status ?? [],
      applied: store.migrated?.applied ?? [],
    }
  } finally {
    await store.close()
  }
}
