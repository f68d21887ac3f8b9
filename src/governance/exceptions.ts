import { UsageError } from "../errors"
import type { PolicyException } from "../org/schema"
import { firstMatch } from "./match"
import type { TargetType } from "./types"

// Exceptions let a named item through for a while. Policy exceptions are
// published in the org config and may lift a security block or a delegation
// denial; local ones (the user's ~/.config/scc/exceptions.json, the repo's
// <root>/.scc/exceptions.json) lift delegation denials only. Expired ones do
// nothing. Items are patterns, matched like blocks.

export type ExceptionTargets = { plugins?: string[]; mcp_servers?: string[]; base_images?: string[] }

export type LocalException = {
  id: string
  reason: string
  created_at: string
  expires_at: string
  created_by?: string
  allow: ExceptionTargets
}

export type LocalScope = "user" | "repo"
export type ScopedLocalException = LocalException & { scope: LocalScope }
export type ExceptionScope = "policy" | LocalScope

/** One exception in force, whatever its origin, as the merge uses it. */
export type ActiveException = {
  id: string
  scope: ExceptionScope
  reason: string
  expires_at?: string
  allow: ExceptionTargets
}

export const TARGET_KEYS: Record<TargetType, keyof ExceptionTargets> = {
  plugin: "plugins",
  mcp_server: "mcp_servers",
  image: "base_images",
}

export function isExpired(e: { expires_at?: string }, now: Date): boolean {
  if (e.expires_at === undefined) return false
  const t = Date.parse(e.expires_at)
  return Number.isNaN(t) || t <= now.getTime()
}

/** Policy exceptions that apply now to this team (one with `teams` needs a team that matches). */
export function activePolicyExceptions(list: readonly PolicyException[] | undefined, team: string | null, now: Date): ActiveException[] {
  const out: ActiveException[] = []
  for (const e of list ?? []) {
    if (isExpired(e, now)) continue
    if (e.teams && (team === null || firstMatch(team, e.teams) === undefined)) continue
    out.push({ id: e.id, scope: "policy", reason: e.reason, expires_at: e.expires_at, allow: e.allow })
  }
  return out
}

export function activeLocalExceptions(list: readonly ScopedLocalException[] | undefined, now: Date): ActiveException[] {
  const out: ActiveException[] = []
  for (const e of list ?? []) {
    if (!isExpired(e, now)) out.push({ id: e.id, scope: e.scope, reason: e.reason, expires_at: e.expires_at, allow: e.allow })
  }
  return out
}

export const DEFAULT_TTL = "8h"
export const MAX_TTL_MS = 24 * 3_600_000
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** `30m`, `8h`, `1d` (units in either case: `8H`): more than zero, at most 24 hours. */
export function parseTtl(ttl: string): number {
  const m = /^(\d+)([mhd])$/.exec(ttl.trim().toLowerCase())
  if (!m) throw new UsageError(`--ttl '${ttl}' is not a duration`, { hint: "give minutes, hours or days, like --ttl 30m, --ttl 8h or --ttl 1d" })
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
  if (ms <= 0) throw new UsageError(`--ttl '${ttl}' must be longer than zero`, { hint: "--ttl 8h" })
  if (ms > MAX_TTL_MS) throw new UsageError(`--ttl '${ttl}' is longer than the 24h an exception may last`, { hint: "--ttl 24h at most; renew it when it expires" })
  return ms
}

export type ExpiryArgs = { ttl?: string; expiresAt?: string; until?: string }

/** When a new exception expires: from exactly one of --ttl, --expires-at, --until (default --ttl 8h). */
export function resolveExpiry(args: ExpiryArgs, now: Date): Date {
  const given = [args.ttl, args.expiresAt, args.until].filter((a) => a !== undefined).length
  if (given > 1) throw new UsageError("give only one of --ttl, --expires-at and --until", { hint: "--ttl 8h, --expires-at 2030-01-02T17:00:00Z or --until 17:00" })
  if (args.expiresAt !== undefined) {
    const t = Date.parse(args.expiresAt)
    if (!/^\d{4}-\d{2}-\d{2}T/.test(args.expiresAt) || Number.isNaN(t))
      throw new UsageError(`--expires-at '${args.expiresAt}' is not an ISO 8601 timestamp`, { hint: "--expires-at 2030-01-02T17:00:00Z" })
    return checkWindow(new Date(t), now, "--expires-at")
  }
  if (args.until !== undefined) {
    const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(args.until.trim())
    if (!m) throw new UsageError(`--until '${args.until}' is not a time of day`, { hint: "--until 17:30 (24-hour clock, local time)" })
    const at = new Date(now)
    at.setHours(Number(m[1]), Number(m[2]), 0, 0)
    if (at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1) // already past today: the next one
    return at
  }
  return new Date(now.getTime() + parseTtl(args.ttl ?? DEFAULT_TTL))
}

function checkWindow(at: Date, now: Date, flag: string): Date {
  if (at.getTime() <= now.getTime()) throw new UsageError(`${flag} ${at.toISOString()} is in the past`, { hint: "give a time in the next 24 hours" })
  if (at.getTime() - now.getTime() > MAX_TTL_MS) throw new UsageError(`${flag} ${at.toISOString()} is more than 24h away`, { hint: "an exception lasts 24h at most; renew it when it expires" })
  return at
}

/** A short random id (8 hex digits); `exceptions delete` takes any unique prefix of it. */
export function newExceptionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
}

/** The target list of an exception as one line, e.g. `plugin vendor-tool@acme, mcp jira`. */
export function describeTargets(allow: ExceptionTargets): string {
  const parts = [
    ...(allow.plugins ?? []).map((p) => `plugin ${p}`),
    ...(allow.mcp_servers ?? []).map((m) => `mcp ${m}`),
    ...(allow.base_images ?? []).map((i) => `image ${i}`),
  ]
  return parts.join(", ")
}
