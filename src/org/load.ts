import { ConfigError, PrerequisiteError } from "../errors"
import * as flag from "../flag"
import { fromCache, isExpired, readCache, sha256 } from "./cache"
import type { OrgConfig } from "./schema"
import { orgSettings, type OrgSettings } from "./settings"
import { resolveSource, type ResolvedSource } from "./source"

// The one way to get the org config. A fresh cache answers without a request
// (and without valibot: see cache.ts); everything else (fetching,
// revalidating, falling back to a stale cache) lives in refresh.ts, loaded
// only when needed.

export type LoadedOrgConfig = {
  config: OrgConfig
  /** The source spec as configured. */
  source: string
  origin: "network" | "cache" | "file"
  /** True when the config is past its expiry (served offline or as a fallback). */
  stale: boolean
  fetchedAt?: string
  expiresAt?: string
  warnings: string[]
}

export type LoadOrgOptions = {
  /** Use the cache only (also SCC_OFFLINE=1). */
  offline?: boolean
  /** Revalidate with the server even when the cache is fresh. */
  refresh?: boolean
  source?: string
  auth?: string
  /** Default: SCC_ORG_TIMEOUT seconds, else 10 s. */
  timeoutMs?: number
  /** Injected clock (ms since the epoch), for expiry. */
  now?: () => number
  /** The user's settings when the caller has read them already (it needs the team too). */
  settings?: OrgSettings
}

export const SETUP_HINT = "scc setup --org <url|github:owner/repo:path|file> --team <team>"

export async function loadOrgConfig(opts: LoadOrgOptions = {}): Promise<LoadedOrgConfig> {
  const settings = opts.settings ?? (await orgSettings({ source: opts.source, auth: opts.auth }))
  if (settings.source === undefined) {
    throw new PrerequisiteError("no organization config source is configured", { hint: SETUP_HINT })
  }
  const source = resolveSource(settings.source)
  const now = opts.now?.() ?? Date.now()
  if (source.kind === "file") return loadFile(source, now)

  const cacheWarnings: string[] = []
  const cached = await readCache(source.spec, cacheWarnings)
  if (cached && !opts.refresh && !isExpired(cached.meta, now)) return fromCache(cached, "cache", false, [])
  if (opts.offline ?? flag.sccOffline()) {
    if (!cached) {
      throw new ConfigError(`offline, and there is no cached org config for ${source.spec}`, {
        hint: "run once without --offline (and without SCC_OFFLINE=1) to fetch and cache it",
      })
    }
    const stale = isExpired(cached.meta, now)
    const warnings = stale ? [`offline: using the cached org config from ${cached.meta.fetched_at}, expired since ${cached.meta.expires_at}`] : []
    return fromCache(cached, "cache", stale, warnings)
  }
  const { refreshFromUrl } = await import("./refresh")
  const loaded = await refreshFromUrl(source, cached, { auth: settings.auth, timeoutMs: opts.timeoutMs ?? timeoutFromEnv(), now })
  return cacheWarnings.length === 0 ? loaded : { ...loaded, warnings: [...cacheWarnings, ...loaded.warnings] }
}

/** A local file: re-validated only when its content changed since it was cached. */
async function loadFile(source: Extract<ResolvedSource, { kind: "file" }>, now: number): Promise<LoadedOrgConfig> {
  let bytes: Uint8Array
  try {
    bytes = await Bun.file(source.path).bytes()
  } catch (e) {
    throw new ConfigError(`cannot read the org config file ${source.path}: ${(e as Error).message}`, {
      hint: `check the path, or point scc at another source with ${SETUP_HINT}`,
    })
  }
  const hash = sha256(bytes)
  const cached = await readCache(source.spec)
  if (cached && cached.meta.source_sha256 === hash) return fromCache(cached, "file", false, [])
  const { cacheFromFile } = await import("./refresh")
  return cacheFromFile(source, bytes, hash, now)
}

function timeoutFromEnv(): number | undefined {
  const s = flag.sccOrgTimeout()
  if (s === undefined) return undefined
  const n = Number(s)
  if (!(n > 0)) throw new ConfigError(`SCC_ORG_TIMEOUT must be a positive number of seconds, not '${s}'`, { hint: "export SCC_ORG_TIMEOUT=10" })
  return n * 1000
}
