import { paths } from "../paths"
import { VERSION } from "../version"
import type { LoadedOrgConfig } from "./load"
import type { OrgConfig } from "./schema"

// The org config cache in ~/.cache/scc/: org_config.json holds the config as
// validation produced it (defaults filled in), cache_meta.json says where it
// came from, until when it is fresh, its ETag and its sha256.
//
// Problem: `config explain` reads this on every run, and re-validating with
// valibot costs milliseconds a run. Why it is safe to skip: nothing is
// written here that did not pass validation, and the sha256 in the meta
// proves the file is still exactly what was validated. A file whose hash
// does not match, or written by another CLI version (whose schema may fill
// in other defaults), is not trusted as is. This module stays free of
// valibot, node:fs and node:crypto so the fast path loads none of them.

export type CacheMeta = {
  /** The source as configured (spec), e.g. `github:acme/policy:org.json`. */
  source: string
  /** What was fetched, for URL sources. */
  url?: string
  fetched_at: string
  expires_at: string
  etag: string | null
  /** sha256 (hex) of org_config.json. */
  sha256: string
  /** File sources: sha256 of the file the cache was validated from. */
  source_sha256?: string
  cli_version: string
  /** Validation warnings (unknown keys), reported on every load. */
  warnings: string[]
}

export type CachedOrg = { config: OrgConfig; meta: CacheMeta; text: string }

export function sha256(data: string | Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex")
}

async function readBytes(path: string): Promise<Uint8Array | undefined> {
  try {
    const { readRegularFile } = await import("../safe-read")
    const text = await readRegularFile(path, 16 * 1024 * 1024) // a generated 1,000-plugin org config is ~0.5 MB
    return text === undefined ? undefined : new TextEncoder().encode(text)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw e
  }
}

function parseMeta(bytes: Uint8Array): CacheMeta | undefined {
  let m: Partial<CacheMeta>
  try {
    m = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return undefined
  }
  const ok =
    m !== null &&
    typeof m === "object" &&
    typeof m.source === "string" &&
    typeof m.sha256 === "string" &&
    typeof m.fetched_at === "string" &&
    typeof m.expires_at === "string" &&
    (typeof m.etag === "string" || m.etag === null)
  if (!ok) return undefined
  return { ...m, warnings: Array.isArray(m.warnings) ? m.warnings : [], cli_version: String(m.cli_version ?? "") } as CacheMeta
}

/**
 * The cached config for `source`, or undefined when there is none, it belongs
 * to another source, or its hash does not match its meta. Expiry is the
 * caller's business (a stale cache is still a fallback).
 */
export async function readCache(source: string, warnings?: string[]): Promise<CachedOrg | undefined> {
  let metaBytes: Uint8Array | undefined
  let bytes: Uint8Array | undefined
  try {
    ;[metaBytes, bytes] = await Promise.all([readBytes(paths.orgConfigMeta()), readBytes(paths.orgConfigCache())])
  } catch (e) {
    // A directory, FIFO or huge file where the cache should be: named, not "This is a bug".
    if (warnings && (e as { code?: string }).code === "config") {
      warnings.push(`${(e as Error).message}; ignoring the cache and fetching again`)
      return undefined
    }
    throw e
  }
  const meta = metaBytes && parseMeta(metaBytes)
  if (!meta || meta.source !== source || !bytes) {
    if (metaBytes && !meta && bytes) corrupt(warnings, "its meta file is not readable")
    return undefined
  }
  if (sha256(bytes) !== meta.sha256) return corrupt(warnings, "its content does not match the hash recorded when it was fetched")
  const text = new TextDecoder().decode(bytes)
  if (meta.cli_version !== VERSION) return revalidate(text, meta)
  try {
    return { config: JSON.parse(text) as OrgConfig, meta, text }
  } catch {
    return corrupt(warnings, "it is not valid JSON")
  }
}

/** A corrupt cache: kept aside as `<cache>.corrupt-<time>` for a look, with a warning; the caller fetches again. */
function corrupt(warnings: string[] | undefined, why: string): undefined {
  const { renameSync, existsSync } = require("node:fs") as typeof import("node:fs")
  const path = paths.orgConfigCache()
  const to = `${path}.corrupt-${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}`
  try {
    if (existsSync(path)) renameSync(path, to)
    warnings?.push(`the cached org config at ${path} is corrupt (${why}); kept it as ${to} and fetched the org config again`)
  } catch (e) {
    warnings?.push(`the cached org config at ${path} is corrupt (${why}) and could not be moved aside: ${(e as Error).message}`)
  }
  return undefined
}

/** Another CLI version wrote this cache: validate it once more (slow path, rare). */
async function revalidate(text: string, meta: CacheMeta): Promise<CachedOrg | undefined> {
  const { validateOrgConfig } = await import("./validate")
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return undefined
  }
  const { config, warnings } = validateOrgConfig(raw)
  if (!config) return undefined
  const written = await writeCache(config, { ...meta, warnings })
  return { config, ...written }
}

/** Write the validated config and then its meta, both atomically, mode 0600. A crash between the two leaves a hash mismatch: no cache, never a wrong one. */
export async function writeCache(config: OrgConfig, meta: Omit<CacheMeta, "sha256" | "cli_version">): Promise<{ meta: CacheMeta; text: string }> {
  const { writeFileAtomic } = await import("../files")
  const text = `${JSON.stringify(config, null, 2)}\n`
  const full: CacheMeta = { ...meta, sha256: sha256(text), cli_version: VERSION }
  writeFileAtomic(paths.orgConfigCache(), text, 0o600)
  writeFileAtomic(paths.orgConfigMeta(), `${JSON.stringify(full, null, 2)}\n`, 0o600)
  return { meta: full, text }
}

/** Rewrite only the meta (a 304 extends the expiry of an unchanged config). */
export async function writeMeta(meta: CacheMeta): Promise<void> {
  const { writeFileAtomic } = await import("../files")
  writeFileAtomic(paths.orgConfigMeta(), `${JSON.stringify(meta, null, 2)}\n`, 0o600)
}

export function isExpired(meta: CacheMeta, now: number): boolean {
  const expires = Date.parse(meta.expires_at)
  return !(expires > now)
}

/** What `config show` reports about the cache, without trusting or fetching anything. */
export async function cacheState(source: string | undefined, now = Date.now()) {
  const metaBytes = await readBytes(paths.orgConfigMeta())
  const meta = metaBytes ? parseMeta(metaBytes) : undefined
  const bytes = await readBytes(paths.orgConfigCache())
  const intact = meta !== undefined && bytes !== undefined && sha256(bytes) === meta.sha256
  return {
    path: paths.orgConfigCache(),
    exists: bytes !== undefined,
    intact,
    matches_source: meta !== undefined && meta.source === source,
    source: meta?.source ?? null,
    fetched_at: meta?.fetched_at ?? null,
    expires_at: meta?.expires_at ?? null,
    expired: meta ? isExpired(meta, now) : null,
    etag: meta?.etag ?? null,
  }
}

/** The LoadedOrgConfig a cached config answers with. */
export function fromCache(cached: CachedOrg, origin: LoadedOrgConfig["origin"], stale: boolean, warnings: string[]): LoadedOrgConfig {
  return {
    config: cached.config,
    source: cached.meta.source,
    origin,
    stale,
    fetchedAt: cached.meta.fetched_at,
    expiresAt: cached.meta.expires_at,
    warnings: [...cached.meta.warnings, ...warnings],
  }
}
