import * as flag from "../flag"
import { log } from "../log"
import { paths } from "../paths"
import { appendLine, headLines, pruneLines } from "./append"
import { DEFAULT_STATS_POLICY, parseEvent, type SessionEnd, type SessionStart, type StatsPolicy } from "./events"
import { userIdentity } from "./identity"

// Recording sessions: `start` calls recordSessionStart when it launches and
// recordSessionEnd with the handle when the session ends. The policy is the
// org config's `stats` section, passed in, so this module needs no loader.

export type RecordOptions = {
  policy?: StatsPolicy
  /** Mixed into the identity hash (the org config's organization.id or name). */
  orgId?: string | null
  /** Defaults to paths.usageFile(). */
  file?: string
  now?: () => Date
  /** The user name before identity mode applies; defaults to $SCC_USER, $USER or $LOGNAME. */
  user?: string
  /** The hash key; defaults to the per-install secret. */
  salt?: string
}

export type SessionInfo = {
  /** The project's name (e.g. projectName(workspace) from src/git/root.ts). */
  project: string
  team?: string | null
  branch?: string | null
  /** The effective session.timeout_hours: how long an unended session is counted. */
  expectedHours?: number | null
}

/** What recordSessionEnd needs; keep it for the session's lifetime. */
export type SessionHandle = {
  id: string
  startedAt: Date
  /** False when stats are disabled (or the start could not be written): no end will be written either. */
  recorded: boolean
  base: Pick<SessionStart, "user" | "project" | "team">
  opts: RecordOptions
}

/** Drop lines older than the retention window, if the oldest line is; cheap when nothing is due. */
export function applyRetention(file: string, retentionDays: number, now: Date): number {
  const cutoff = now.getTime() - retentionDays * 86_400_000
  let oldest = null
  for (const line of headLines(file)) if ((oldest = parseEvent(line))) break
  if (!oldest || Date.parse(oldest.ts) >= cutoff) return 0
  const r = pruneLines(file, (line) => {
    const e = parseEvent(line)
    return e !== null && Date.parse(e.ts) < cutoff // bad lines are kept: not ours to judge
  })
  return r?.dropped ?? 0
}

/** The user's identity; when the hash key cannot be read or made, none (never the clear name). */
function identityOrNull(opts: RecordOptions, policy: StatsPolicy): string | null {
  try {
    return userIdentity({ user: opts.user ?? flag.sccUser(), mode: policy.user_identity_mode, orgId: opts.orgId, salt: opts.salt })
  } catch (e) {
    log().warn(`usage stats: no user identity (${(e as Error).message})`)
    return null
  }
}

/**
 * Record the start of a session. Best effort: stats never stop a session, so
 * a failure to write is a logged warning and a handle with `recorded: false`.
 */
export function recordSessionStart(info: SessionInfo, opts: RecordOptions = {}): SessionHandle {
  const policy = opts.policy ?? DEFAULT_STATS_POLICY
  const now = opts.now?.() ?? new Date()
  const base = {
    user: policy.enabled ? identityOrNull(opts, policy) : null,
    project: info.project,
    team: info.team ?? null,
  }
  const handle: SessionHandle = { id: crypto.randomUUID(), startedAt: now, recorded: policy.enabled, base, opts }
  if (!policy.enabled) return handle
  const file = opts.file ?? paths.usageFile()
  const event: SessionStart = {
    v: 1,
    type: "session_start",
    ts: now.toISOString(),
    session: handle.id,
    ...base,
    branch: info.branch ?? null,
    expected_hours: info.expectedHours ?? null,
  }
  try {
    applyRetention(file, policy.retention_days, now)
    appendLine(file, JSON.stringify(event))
  } catch (e) {
    log().warn(`usage stats not recorded in ${file}: ${(e as Error).message}`)
    handle.recorded = false
  }
  return handle
}

/** Record the end: duration from the handle's start, and the session's exit status. Best effort, like the start. */
export function recordSessionEnd(handle: SessionHandle, exit: { exitCode: number | null }): void {
  if (!handle.recorded) return
  const now = handle.opts.now?.() ?? new Date()
  const event: SessionEnd = {
    v: 1,
    type: "session_end",
    ts: now.toISOString(),
    session: handle.id,
    ...handle.base,
    duration_s: Math.max(0, (now.getTime() - handle.startedAt.getTime()) / 1000),
    exit_code: exit.exitCode,
  }
  const file = handle.opts.file ?? paths.usageFile()
  try {
    appendLine(file, JSON.stringify(event))
  } catch (e) {
    log().warn(`usage stats not recorded in ${file}: ${(e as Error).message}`)
  }
}
