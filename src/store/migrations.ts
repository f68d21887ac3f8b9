import m0001 from "../../migrations/0001_core.sql" with { type: "text" }
import m0002 from "../../migrations/0002_vectors.sql" with { type: "text" }
import m0003 from "../../migrations/0003_memory.sql" with { type: "text" }
import m0004 from "../../migrations/0004_rl.sql" with { type: "text" }
import m0005 from "../../migrations/0005_tokens.sql" with { type: "text" }
import m0006 from "../../migrations/0006_codeindex.sql" with { type: "text" }
import m0007 from "../../migrations/0007_cluster.sql" with { type: "text" }
import m0008 from "../../migrations/0008_ui_sessions.sql" with { type: "text" }
import m0010 from "../../migrations/0010_codeindex_vectors.sql" with { type: "text" }
import m0011 from "../../migrations/0011_memory_lexical.sql" with { type: "text" }

// The migrations, embedded in the binary as text: a binary moved away from
// the checkout still migrates. A new file in migrations/ goes here too
// (test/store/migrations.test.ts fails until it does), in version order.
// Numbers were handed out per feature (0003 memory ... 0009 hardening) and
// land in any order: a lower number arriving after a higher one was applied
// is simply pending, and applied next.
//
// Problem: a PostgreSQL without pgvector (Debian's 15 here, many managed
// servers) cannot run a migration that uses the `vector` type, and the
// daemon must still start on it, with memory and code vectors off.
// Why not inside the .sql file: applied migrations are checksummed, so a
// marker added to 0002 later would make every database "changed".
// Fix: a migration that needs pgvector says so here, with the features it
// carries. On a server without the extension it is "skipped" (not an
// error, not pending): the daemon starts, `store.vectors` says which
// features are off, and the first start on a server that has pgvector
// applies it. Rule for such migrations: nothing that does not need
// pgvector may depend on them (they can be applied after later ones).

export type Migration = {
  version: number
  name: string
  sql: string
  /** Uses the pgvector extension (the `vector` type, its indexes): skipped where the server has none. */
  pgvector?: boolean
  /** What is off while this migration is skipped, as `cca status` names it ("memory"). */
  features?: readonly string[]
}

export type MigrationNeeds = Pick<Migration, "pgvector" | "features">

function migration(file: string, sql: string, needs: MigrationNeeds = {}): Migration {
  const m = /^(\d{4})_([a-z0-9_]+)$/.exec(file)
  if (!m) throw new Error(`bad migration name ${file}: use NNNN_name`)
  if (needs.features?.length && !needs.pgvector) throw new Error(`migration ${file}: features are only named for a migration that can be skipped (pgvector: true)`)
  return { version: Number(m[1]), name: file, sql, ...needs }
}

export const MIGRATIONS: readonly Migration[] = [
  migration("0001_core", m0001),
  migration("0002_vectors", m0002, { pgvector: true, features: ["memory"] }), // its code_* tables are unused: code vectors are 0010 (no pgvector)
  migration("0003_memory", m0003, { pgvector: true, features: ["memory"] }),
  migration("0004_rl", m0004),
  migration("0005_tokens", m0005),
  migration("0006_codeindex", m0006),
  migration("0007_cluster", m0007),
  migration("0008_ui_sessions", m0008),
  migration("0010_codeindex_vectors", m0010),
  migration("0011_memory_lexical", m0011, { pgvector: true, features: ["memory"] }),
]
