import { NotFoundError, UsageError } from "../errors"
import { readTextIfExists } from "../files"
import type { UsageEvent } from "./events"
import { addBucket, emptyBucket, type Bucket, type UsageSummary } from "./summary"

// Exports leave the machine (a user sends theirs to whoever aggregates), so
// they carry the summary and, only with --raw, the events themselves.
// `aggregate` sums many users' exports per project and per team.

export const EXPORT_KIND = "scc.usage.export"

export type UsageExport = {
  schemaVersion: 1
  kind: typeof EXPORT_KIND
  generated_at: string
  summary: UsageSummary
  /** Present with --raw. */
  events?: UsageEvent[]
}

export function buildExport(summary: UsageSummary, opts: { raw?: UsageEvent[]; now: Date }): UsageExport {
  const out: UsageExport = { schemaVersion: 1, kind: EXPORT_KIND, generated_at: opts.now.toISOString(), summary }
  if (opts.raw) out.events = opts.raw
  return out
}

export type UsageAggregate = {
  schemaVersion: 1
  files: number
  period: { from: string | null; to: string | null }
  totals: Bucket
  by_project: Record<string, Bucket>
  by_team: Record<string, Bucket>
  /** Bad lines the exporters skipped, summed. */
  bad_lines: number
}

function isBucket(x: unknown): x is Bucket {
  if (!x || typeof x !== "object") return false
  const b = x as Record<string, unknown>
  return ["sessions", "completed", "incomplete", "active", "total_duration_s"].every((k) => typeof b[k] === "number") && Array.isArray(b.users)
}

/** An export from text: the bare document, or the `--json` envelope around it. */
export function parseExport(text: string, name: string): UsageExport {
  const bad = (why: string) =>
    new UsageError(`${name} is not a usage export: ${why}`, { hint: "pass files written by `scc stats export --json -o FILE`" })
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    throw bad(`not JSON (${(e as Error).message})`)
  }
  const o = doc as Record<string, unknown> | null
  if (o && typeof o === "object" && o.apiVersion && o.data) doc = o.data
  const d = doc as Partial<UsageExport> | null
  if (!d || d.kind !== EXPORT_KIND) throw bad(`kind is not "${EXPORT_KIND}"`)
  if (d.schemaVersion !== 1) throw bad(`schemaVersion ${String(d.schemaVersion)} is not 1`)
  const s = d.summary
  if (!s || !isBucket(s.totals) || typeof s.by_project !== "object" || typeof s.by_team !== "object") throw bad("summary is missing or malformed")
  for (const b of [...Object.values(s.by_project), ...Object.values(s.by_team)]) if (!isBucket(b)) throw bad("a bucket is malformed")
  return d as UsageExport
}

export function aggregate(exports: UsageExport[]): UsageAggregate {
  const totals = emptyBucket()
  const by_project: Record<string, Bucket> = {}
  const by_team: Record<string, Bucket> = {}
  let bad_lines = 0
  let from: string | null = null
  let to: string | null = null
  for (const x of exports) {
    const s = x.summary
    addBucket(totals, s.totals)
    for (const [k, b] of Object.entries(s.by_project)) addBucket((by_project[k] ??= emptyBucket()), b)
    for (const [k, b] of Object.entries(s.by_team)) addBucket((by_team[k] ??= emptyBucket()), b)
    bad_lines += s.bad_lines ?? 0
    if (s.period.from && (!from || s.period.from < from)) from = s.period.from
    if (s.period.to && (!to || s.period.to > to)) to = s.period.to
  }
  return { schemaVersion: 1, files: exports.length, period: { from, to }, totals, by_project, by_team, bad_lines }
}

export async function readExports(files: string[]): Promise<UsageExport[]> {
  return Promise.all(
    files.map(async (f) => {
      const text = await readTextIfExists(f, 256 * 1024 * 1024)
      if (text === undefined) throw new NotFoundError(`${f} does not exist`, { hint: "pass the paths of exported files" })
      return parseExport(text, f)
    }),
  )
}
