import type { OrgConfig } from "../org/schema"

// The lines of ~/.cache/scc/usage.jsonl. Each line is one JSON object; both
// kinds carry project, team and user so an end whose start was pruned still
// counts where it belongs.

export type StatsPolicy = NonNullable<OrgConfig["stats"]>
export type IdentityMode = StatsPolicy["user_identity_mode"]

/** The org config's `stats` section with its schema defaults. */
export const DEFAULT_STATS_POLICY: StatsPolicy = { enabled: true, user_identity_mode: "hash", retention_days: 90 }

type Common = {
  v: 1
  ts: string
  session: string
  /** Per user_identity_mode: a salted hash, the clear name, or null (anonymous). */
  user: string | null
  project: string
  team: string | null
}

export type SessionStart = Common & {
  type: "session_start"
  branch: string | null
  /** The session timeout the launch was configured with; an unended session counts this long. */
  expected_hours: number | null
}

export type SessionEnd = Common & {
  type: "session_end"
  duration_s: number
  exit_code: number | null
}

export type UsageEvent = SessionStart | SessionEnd

const isStr = (x: unknown): x is string => typeof x === "string"
// A regex, not Date.parse: this runs for every line of the log, and Date.parse costs ~10x more.
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/
const isStrOrNull = (x: unknown) => x === null || typeof x === "string"
const isNumOrNull = (x: unknown) => x === null || (typeof x === "number" && Number.isFinite(x))

/** A parsed line, or null when it is not a valid event (bad lines are counted, not fatal). */
export function parseEvent(line: string): UsageEvent | null {
  let o: Record<string, unknown>
  try {
    const parsed: unknown = JSON.parse(line)
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return null
    o = parsed as Record<string, unknown>
  } catch {
    return null
  }
  if (o.v !== 1 || !isStr(o.session) || !isStr(o.ts) || !ISO.test(o.ts)) return null
  if (!isStr(o.project) || !isStrOrNull(o.team ?? null) || !isStrOrNull(o.user ?? null)) return null
  const common = { v: 1 as const, ts: o.ts, session: o.session, user: (o.user ?? null) as string | null, project: o.project, team: (o.team ?? null) as string | null }
  if (o.type === "session_start") {
    if (!isStrOrNull(o.branch ?? null) || !isNumOrNull(o.expected_hours ?? null)) return null
    return { ...common, type: "session_start", branch: (o.branch ?? null) as string | null, expected_hours: (o.expected_hours ?? null) as number | null }
  }
  if (o.type === "session_end") {
    if (typeof o.duration_s !== "number" || !Number.isFinite(o.duration_s) || o.duration_s < 0 || !isNumOrNull(o.exit_code ?? null)) return null
    return { ...common, type: "session_end", duration_s: o.duration_s, exit_code: (o.exit_code ?? null) as number | null }
  }
  return null
}
