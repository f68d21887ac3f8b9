import { keyValues, table } from "../output"
import type { Bucket } from "../stats/summary"

// Human rendering shared by `stats` and `stats aggregate`.

export function duration(seconds: number): string {
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m`
  const h = Math.floor(m / 60)
  return m % 60 ? `${h}h ${m % 60}m` : `${h}h`
}

function bucketTable(title: string, buckets: Record<string, Bucket>): string {
  const rows = Object.entries(buckets).sort((a, b) => b[1].total_duration_s - a[1].total_duration_s)
  return table(rows, [
    { header: title, get: ([k]) => k },
    { header: "sessions", get: ([, b]) => b.sessions, align: "right" },
    { header: "incomplete", get: ([, b]) => b.incomplete, align: "right" },
    { header: "active", get: ([, b]) => b.active, align: "right" },
    { header: "total", get: ([, b]) => duration(b.total_duration_s), align: "right" },
    { header: "avg", get: ([, b]) => duration(b.avg_duration_s), align: "right" },
    { header: "users", get: ([, b]) => b.users.length, align: "right" },
  ])
}

export function renderBuckets(heading: [string, string | number][], totals: Bucket, byProject: Record<string, Bucket>, byTeam: Record<string, Bucket>): string {
  if (totals.sessions === 0) return `${keyValues(heading)}\nno sessions recorded`
  return [
    keyValues([
      ...heading,
      ["sessions", `${totals.sessions} (${totals.completed} completed, ${totals.incomplete} incomplete, ${totals.active} active)`],
      ["total", duration(totals.total_duration_s)],
      ["average", duration(totals.avg_duration_s)],
      ["users", totals.users.length],
    ]),
    bucketTable("project", byProject),
    bucketTable("team", byTeam),
  ].join("\n\n")
}
