import { AppError, ConfigError, NetworkError } from "../errors"
import { log } from "../log"
import { authorizationHeader, resolveToken } from "./auth"
import { fromCache, isExpired, writeCache, writeMeta, type CachedOrg } from "./cache"
import { fetchOrgConfig } from "./fetch"
import type { LoadedOrgConfig } from "./load"
import type { OrgConfig } from "./schema"
import type { ResolvedSource } from "./source"
import { formatIssues, parseAndValidate, type OrgValidation } from "./validate"

// The slow path of loadOrgConfig: ask the server (conditionally when a cache
// exists), validate what comes back before it may replace the cache, and
// fall back to a stale cache, with a warning, whenever the server cannot give
// us a valid config. Without a cache those failures are errors.

type UrlSource = Extract<ResolvedSource, { kind: "url" }>
type FileSource = Extract<ResolvedSource, { kind: "file" }>
type RefreshOptions = { auth?: string; timeoutMs?: number; now: number }

const HOUR_MS = 3_600_000

export async function refreshFromUrl(source: UrlSource, cached: CachedOrg | undefined, opts: RefreshOptions): Promise<LoadedOrgConfig> {
  const fallback = (problem: AppError): LoadedOrgConfig => {
    if (!cached) throw problem
    const when = cached.meta.fetched_at
    const warning = `${problem.message}; using the cached org config from ${when}`
    log().info(warning)
    return fromCache(cached, "cache", isExpired(cached.meta, opts.now), [warning])
  }

  let authorization: string | undefined
  try {
    if (opts.auth !== undefined) authorization = authorizationHeader(await resolveToken(opts.auth))
  } catch (e) {
    if (e instanceof AppError) return fallback(e)
    throw e
  }

  let res: Awaited<ReturnType<typeof fetchOrgConfig>>
  try {
    res = await fetchOrgConfig(source.url, { etag: cached?.meta.etag, authorization, timeoutMs: opts.timeoutMs })
  } catch (e) {
    if (e instanceof AppError) return fallback(e)
    throw e
  }

  if (res.status === 304) {
    if (!cached) return fallback(new NetworkError(`${source.url} answered 304 Not Modified to a request without a cache`, { hint: "check the org config server" }))
    const meta = { ...cached.meta, fetched_at: iso(opts.now), expires_at: iso(opts.now + ttlMs(cached.config)) }
    await writeMeta(meta)
    log().info(`org config not modified (${source.url}); cache extended to ${meta.expires_at}`)
    return fromCache({ ...cached, meta }, "cache", false, [])
  }
  if (res.status === 401 || res.status === 403) {
    return fallback(
      new ConfigError(`${source.url} refused the org config request (HTTP ${res.status})`, {
        hint: opts.auth
          ? `check that the token from '${opts.auth}' is valid and may read the file (scc setup --auth ...)`
          : "the source needs credentials: scc setup --auth env:VAR or --auth 'command:gh auth token'",
      }),
    )
  }
  if (res.status === 404) return fallback(new ConfigError(`no org config at ${source.url} (HTTP 404)`, { hint: "check the org source: scc config get organization_source.url" }))
  if (res.status !== 200 || !("body" in res)) {
    return fallback(new NetworkError(`${source.url} answered HTTP ${res.status}`, { hint: "try again later, or ask your org config's maintainers" }))
  }

  const checked = parseAndValidate(res.body)
  if (!checked.config) return fallback(invalidConfig(source.url, checked))
  const written = await writeCache(checked.config, {
    source: source.spec,
    url: source.url,
    fetched_at: iso(opts.now),
    expires_at: iso(opts.now + ttlMs(checked.config)),
    etag: res.etag,
    warnings: checked.warnings,
  })
  log().info(`fetched the org config from ${source.url}${res.etag ? ` (etag ${res.etag})` : ""}`)
  return { config: checked.config, source: source.spec, origin: "network", stale: false, fetchedAt: written.meta.fetched_at, expiresAt: written.meta.expires_at, warnings: checked.warnings }
}

/** A local file whose content is new to the cache: validate, then cache (no stale fallback: the file is the truth). */
export async function cacheFromFile(source: FileSource, bytes: Uint8Array, hash: string, now: number): Promise<LoadedOrgConfig> {
  const checked = parseAndValidate(new TextDecoder().decode(bytes))
  if (!checked.config) throw invalidConfig(source.path, checked)
  const { meta } = await writeCache(checked.config, {
    source: source.spec,
    fetched_at: iso(now),
    expires_at: iso(now + ttlMs(checked.config)),
    etag: null,
    source_sha256: hash,
    warnings: checked.warnings,
  })
  return { config: checked.config, source: source.spec, origin: "file", stale: false, fetchedAt: meta.fetched_at, expiresAt: meta.expires_at, warnings: checked.warnings }
}

function invalidConfig(where: string, checked: OrgValidation): AppError {
  const shown = checked.errors.slice(0, 10)
  const more = checked.errors.length > shown.length ? `\n  ... and ${checked.errors.length - shown.length} more` : ""
  return new ConfigError(`the org config from ${where} is invalid:\n${formatIssues(shown)}${more}`, {
    hint: checked.errors.find((e) => e.hint)?.hint ?? `ask its maintainers to run \`scc config validate <file>\` in CI`,
    details: { errors: checked.errors },
  })
}

function ttlMs(config: OrgConfig): number {
  return config.defaults.cache_ttl_hours * HOUR_MS
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
