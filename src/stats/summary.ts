import { parseEvent, type SessionEnd, type SessionStart, type UsageEvent } from "./events"

// Reading the usage log and turning events into sessions and sums.

export type UsageLog = {
  events: UsageEvent[]
  /** Lines that are not valid events: skipped and reported. */
  badLines: number
}

/** Parse a usage log's text. Duplicate events (see append.ts) are dropped. */
export function parseUsage(text: string): UsageLog {
  const events: UsageEvent[] = []
  const seen = new Set<string>()
  let badLines = 0
  const lines = text.split("\n")
  // Text after the last newline may be a line still being written (appends are
  // one write each, but a reader can catch one half done): not counted as bad.
  const unterminated = lines.pop() ?? ""
  for (const line of lines) {
    if (line.trim() === "") continue
    const e = parseEvent(line)
    if (!e) {
      badLines++
      continue
    }
    const key = `${e.type}\0${e.session}`
    if (seen.has(key)) continue
    seen.add(key)
    events.push(e)
  }
  const last = unterminated.trim() ? parseEvent(unterminated) : null
  if (last && !seen.has(`${last.type}\0${last.session}`)) events.push(last)
  return { events, badLines }
}

/** The log at `file` (empty when it does not exist). Bun.file, not node:fs: `stats` is a fast command. */
export async function readUsage(file: string): Promise<UsageLog> {
  let text = ""
  try {
    const { readRegularFile } = await import("../safe-read")
    text = (await readRegularFile(file, 256 * 1024 * 1024)) ?? "" // a year of sessions is a few MB
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e
  }
  return parseUsage(text)
}

export type SessionState = "completed" | "incomplete" | "active"

export type Session = {
  id: string
  start: string
  start_ms: number
  state: SessionState
  /** Recorded for completed sessions; expected for incomplete ones; elapsed for active ones. */
  duration_s: number
  project: string
  team: string | null
  user: string | null
  exit_code: number | null
}

export type SessionOptions = {
  now: Date
  /** For sessions whose start did not record expected_hours. */
  defaultExpectedHours: number
  /** Unended sessions whose container no longer exists (liveness.ts): incomplete now. */
  gone?: ReadonlySet<string>
}

/**
 * One session per id. A start without an end is `incomplete` (counted at its
 * expected duration) once that duration has passed or its container is gone
 * (`gone`; counted at the time elapsed, at most the expected duration),
 * `active` before that (it may still be running). An end whose start was pruned stands on its own.
 */
export function toSessions(events: UsageEvent[], opts: SessionOptions): Session[] {
  const starts = new Map<string, SessionStart>()
  const ends = new Map<string, SessionEnd>()
  for (const e of events) {
    if (e.type === "session_start") starts.set(e.session, e)
    else ends.set(e.session, e)
  }
  const out: Session[] = []
  for (const id of new Set([...starts.keys(), ...ends.keys()])) {
    const s = starts.get(id)
    const e = ends.get(id)
    const who = s ?? e!
    const base = { id, project: who.project, team: who.team, user: who.user }
    if (e) {
      const start_ms = s ? Date.parse(s.ts) : Date.parse(e.ts) - e.duration_s * 1000
      out.push({ ...base, start: s ? s.ts : new Date(start_ms).toISOString(), start_ms, state: "completed", duration_s: e.duration_s, exit_code: e.exit_code })
      continue
    }
    const start_ms = Date.parse(s!.ts)
    const expected = (s!.expected_hours ?? opts.defaultExpectedHours) * 3600
    const elapsed = Math.max(0, (opts.now.getTime() - start_ms) / 1000)
    // A session whose container is gone ended at some time before now: counted at most at its expected duration.
    const state = elapsed >= expected || opts.gone?.has(id) ? "incomplete" : "active"
    out.push({ ...base, start: s!.ts, start_ms, state, duration_s: state === "incomplete" ? Math.min(expected, elapsed) : elapsed, exit_code: null })
  }
  return out.sort((a, b) => a.start_ms - b.start_ms)
}

export type Bucket = {
  sessions: number
  completed: number
  incomplete: number
  active: number
  total_duration_s: number
  avg_duration_s: number
  /** Distinct user identities (none for anonymous sessions). */
  users: string[]
}

export const NO_TEAM = "(none)"

export function emptyBucket(): Bucket {
  return { sessions: 0, completed: 0, incomplete: 0, active: 0, total_duration_s: 0, avg_duration_s: 0, users: [] }
}

/** Add `b` into `into` (sums, users unioned, average recomputed). */
export function addBucket(into: Bucket, b: Bucket): Bucket {
  into.sessions += b.sessions
  into.completed += b.completed
  into.incomplete += b.incomplete
  into.active += b.active
  into.total_duration_s += b.total_duration_s
  into.avg_duration_s = into.sessions ? into.total_duration_s / into.sessions : 0
  into.users = [...new Set([...into.users, ...b.users])].sort()
  return into
}

export type UsageSummary = {
  period: { days: number | null; from: string | null; to: string }
  totals: Bucket
  by_project: Record<string, Bucket>
  by_team: Record<string, Bucket>
  bad_lines: number
}

/** A bucket being filled: users as a set, finished into a Bucket once. */
class Tally {
  private readonly b = emptyBucket()
  private readonly users = new Set<string>()
  add(s: Session): void {
    this.b.sessions++
    this.b[s.state]++
    this.b.total_duration_s += s.duration_s
    if (s.user) this.users.add(s.user)
  }
  finish(): Bucket {
    return { ...this.b, avg_duration_s: this.b.sessions ? this.b.total_duration_s / this.b.sessions : 0, users: [...this.users].sort() }
  }
}

function finishAll(tallies: Map<string, Tally>): Record<string, Bucket> {
  const out: Record<string, Bucket> = {}
  for (const [k, t] of tallies) out[k] = t.finish()
  return out
}

/** Sums over the sessions that started in the last `days` days (all when null). */
export function summarize(log: UsageLog, opts: SessionOptions & { days?: number | null }): UsageSummary {
  const days = opts.days ?? null
  const from = days === null ? null : new Date(opts.now.getTime() - days * 86_400_000)
  const totals = new Tally()
  const byProject = new Map<string, Tally>()
  const byTeam = new Map<string, Tally>()
  const tally = (m: Map<string, Tally>, k: string) => {
    let t = m.get(k)
    if (!t) m.set(k, (t = new Tally()))
    return t
  }
  for (const s of toSessions(log.events, opts)) {
    if (from && s.start_ms < from.getTime()) continue
    totals.add(s)
    tally(byProject, s.project).add(s)
    tally(byTeam, s.team ?? NO_TEAM).add(s)
  }
  return {
    period: { days, from: from?.toISOString() ?? null, to: opts.now.toISOString() },
    totals: totals.finish(),
    by_project: finishAll(byProject),
    by_team: finishAll(byTeam),
    bad_lines: log.badLines,
  }
}
