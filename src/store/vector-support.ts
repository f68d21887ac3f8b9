import { defineError, ExitCode } from "../errors"
import type { MigrateResult } from "./migrate"
import { MIGRATIONS, type Migration } from "./migrations"

// Whether this database has pgvector, and what is off when it has not.
// PGlite always has it; a PostgreSQL server may not (Debian's packages, many
// managed servers). Without it the daemon still starts: the migrations that
// need it are skipped (migrations.ts), `store.vectors` says so, and the
// features they carry answer 503 with a hint through `requireVectors`, which
// their domain functions call (so HTTP, CLI and MCP say the same thing).

export const VectorsUnavailableError = defineError("vectors_unavailable", { exitCode: ExitCode.prerequisite, status: 503 })

export type VectorSupport = {
  available: boolean
  /** pgvector's installed version. */
  version?: string
  /** Why vectors are off, and what to do about it (when not available). */
  reason?: string
  hint?: string
  /** Features that are off ("memory"): those of the skipped migrations. */
  off: string[]
  /** Migrations left out for want of pgvector. */
  skipped: string[]
}

/** Why a server has no usable pgvector: found by the engine when it opens. */
export type VectorMissing = { reason: string; hint: string }

export function vectorSupport(version: string | undefined, missing: VectorMissing | undefined, migrated: MigrateResult | undefined, migrations: readonly Migration[] = MIGRATIONS): VectorSupport {
  if (!missing) return { available: true, version, off: [], skipped: [] }
  const skipped = migrated?.skipped ?? migrations.filter((m) => m.pgvector).map((m) => m.name)
  const declared = migrations.filter((m) => m.pgvector && (skipped.includes(m.name) || !migrated)).flatMap((m) => m.features ?? [])
  return { available: false, reason: missing.reason, hint: missing.hint, off: [...new Set(declared)], skipped }
}

/**
 * Throws a 503 `vectors_unavailable` (exit 5) naming the feature, the cause and
 * the fix when the store has no pgvector. Call it at the top of a domain
 * function that needs vectors (memory search, code search, ...).
 */
export function requireVectors(v: VectorSupport, feature: string): void {
  if (v.available) return
  throw new VectorsUnavailableError(`${feature} is off: ${v.reason ?? "the database has no pgvector"}`, {
    hint: `${v.hint ?? "install pgvector on the PostgreSQL server"}; the daemon applies the skipped migrations at its next start`,
    details: { off: v.off, skipped: v.skipped },
  })
}

