import m0001 from "../../migrations/0001_core.sql" with { type: "text" }
import m0002 from "../../migrations/0002_vectors.sql" with { type: "text" }
import m0004 from "../../migrations/0004_rl.sql" with { type: "text" }

// The migrations, embedded in the binary as text: a binary moved away from
// the checkout still migrates. A new file in migrations/ goes here too
// (test/store/migrations.test.ts fails until it does).

export type Migration = { version: number; name: string; sql: string }

function migration(file: string, sql: string): Migration {
  const m = /^(\d{4})_([a-z0-9_]+)$/.exec(file)
  if (!m) throw new Error(`bad migration name ${file}: use NNNN_name`)
  return { version: Number(m[1]), name: file, sql }
}

export const MIGRATIONS: readonly Migration[] = [migration("0001_core", m0001), migration("0002_vectors", m0002), migration("0004_rl", m0004)]
