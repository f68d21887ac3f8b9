import { ConfigError } from "../errors"
import { readRegularFile } from "../safe-read"
import { isExpired, type LocalException, type LocalScope, type ScopedLocalException } from "./exceptions"

// The local exception files: { "schema_version": 1, "exceptions": [...] }.
// Reading never fails the command: a file from a newer schema is ignored with
// a warning (and never overwritten); a file that is not JSON, or not this
// shape, is moved aside to `<file>.bak-YYYYMMDD` with a warning and read as
// empty; a malformed entry is skipped with a warning. Writes are atomic and
// drop expired entries. Validation is by hand: valibot would cost start-up
// time on `config explain`, which reads these files on every run; so would
// node:fs (~2.6 ms), which only the write and move-aside paths load.

export const STORE_SCHEMA_VERSION = 1

export type StoreFile = { path: string; scope: LocalScope }

export type StoreRead = {
  exceptions: LocalException[]
  warnings: string[]
  /** Written by a newer schema: ignored, and must not be overwritten. */
  newer: boolean
  /** File-level fields this version does not know; kept on every rewrite (forward compatibility). */
  extra?: Record<string, unknown>
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string")

function asEntry(raw: unknown): LocalException | undefined {
  if (typeof raw !== "object" || raw === null) return undefined
  const e = raw as Record<string, unknown>
  if (typeof e.id !== "string" || !e.id || typeof e.reason !== "string" || typeof e.expires_at !== "string" || Number.isNaN(Date.parse(e.expires_at))) return undefined
  if (typeof e.allow !== "object" || e.allow === null) return undefined
  const allow = e.allow as Record<string, unknown>
  for (const k of ["plugins", "mcp_servers", "base_images"]) if (allow[k] !== undefined && !isStringArray(allow[k])) return undefined
  return raw as LocalException
}

export function backupPath(path: string, now: Date): string {
  const day = now.toISOString().slice(0, 10).replaceAll("-", "")
  const { existsSync } = require("node:fs") as typeof import("node:fs")
  let candidate = `${path}.bak-${day}`
  for (let n = 1; existsSync(candidate); n++) candidate = `${path}.bak-${day}.${n}`
  return candidate
}

function moveAside(path: string, why: string, now: Date): StoreRead {
  const { renameSync } = require("node:fs") as typeof import("node:fs")
  const to = backupPath(path, now)
  renameSync(path, to)
  return { exceptions: [], warnings: [`${path} ${why}; moved it to ${to} and started empty`], newer: false }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readRegularFile(path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "ENOENT" || code === "ENOTDIR") return undefined
    throw e
  }
}

export async function readStore(path: string, now: Date): Promise<StoreRead> {
  const text = await readText(path)
  if (text === undefined || text.trim() === "") return { exceptions: [], warnings: [], newer: false }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return moveAside(path, "is not valid JSON", now)
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return moveAside(path, "is not an exceptions file (expected an object)", now)
  const file = raw as Record<string, unknown>
  const version = file.schema_version ?? STORE_SCHEMA_VERSION
  if (typeof version !== "number") return moveAside(path, "has a schema_version that is not a number", now)
  if (version > STORE_SCHEMA_VERSION)
    return {
      exceptions: [],
      warnings: [`${path} was written by a newer scc (schema_version ${version}); ignoring its exceptions. Upgrade scc to use them`],
      newer: true,
    }
  if (!Array.isArray(file.exceptions)) return moveAside(path, "has no exceptions list", now)
  const exceptions: LocalException[] = []
  const warnings: string[] = []
  file.exceptions.forEach((e, i) => {
    const entry = asEntry(e)
    if (entry) exceptions.push(entry)
    else warnings.push(`${path}: exceptions[${i}] is malformed (needs id, reason, expires_at and allow); skipped, and dropped on the next write`)
  })
  const { schema_version: _v, exceptions: _e, ...extra } = file
  return { exceptions, warnings, newer: false, extra }
}

/**
 * Read, change and write one store atomically, dropping expired entries.
 * Refuses to overwrite a newer schema's file. The repo file is meant to be
 * committed, so it is world-readable; the user's file is owner-only.
 */
export async function updateStore(
  file: StoreFile,
  now: Date,
  change: (current: LocalException[]) => LocalException[],
): Promise<{ before: LocalException[]; after: LocalException[]; warnings: string[] }> {
  const current = await readStore(file.path, now)
  if (current.newer) throw new ConfigError(`${file.path} was written by a newer scc; not overwriting it`, { hint: "upgrade scc, or move the file aside yourself" })
  const after = change(current.exceptions).filter((e) => !isExpired(e, now))
  const { writeJsonAtomic } = await import("../files")
  // Unknown fields, of the file and of each entry (entries are kept as read), survive the rewrite.
  writeJsonAtomic(file.path, { ...current.extra, schema_version: STORE_SCHEMA_VERSION, exceptions: after }, file.scope === "repo" ? 0o644 : 0o600)
  return { before: current.exceptions, after, warnings: current.warnings }
}

/** Read several stores; warnings of all of them together. */
export async function readStores(files: readonly StoreFile[], now: Date): Promise<{ exceptions: ScopedLocalException[]; warnings: string[] }> {
  const reads = await Promise.all(files.map((f) => readStore(f.path, now)))
  const exceptions: ScopedLocalException[] = []
  const warnings: string[] = []
  reads.forEach((r, i) => {
    for (const e of r.exceptions) exceptions.push({ ...e, scope: files[i]!.scope })
    warnings.push(...r.warnings)
  })
  return { exceptions, warnings }
}
