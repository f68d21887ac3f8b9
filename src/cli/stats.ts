import { command } from "./common"
import { renderBuckets } from "./stats-format"
import { DISABLED_NOTE, statsSettings } from "./stats-settings"
import { UsageError } from "../errors"
import { paths } from "../paths"
import { goneSessions } from "../stats/liveness"
import { readUsage, summarize } from "../stats/summary"

// `stats [--days N]`; `stats export` and `stats aggregate` are subcommands.

export const daysArg = { days: { type: "string", description: "Only sessions started in the last N days" } } as const

export function parseDays(value: string | undefined): number | null {
  if (value === undefined) return null
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--days must be a whole number of days (got "${value}")`, { hint: "e.g. --days 30" })
  return n
}

const summary = command({
  meta: { name: "stats", description: "Usage summary: sessions, durations, incomplete sessions, per project and team" },
  args: daysArg,
  async run(ctx, args) {
    if (args._.length > 0) return // a subcommand ran (citty runs the parent's run after it)
    const file = paths.usageFile()
    const settings = await statsSettings()
    if (!settings.policy.enabled) ctx.warn(DISABLED_NOTE)
    const log = await readUsage(file)
    const now = new Date()
    const live = await goneSessions(log, { now, defaultExpectedHours: settings.defaultExpectedHours })
    if (live.warning) ctx.warn(live.warning)
    const data = { file, ...summarize(log, { now, days: parseDays(args.days), defaultExpectedHours: settings.defaultExpectedHours, gone: live.gone }) }
    if (data.bad_lines > 0) ctx.warn(`skipped ${data.bad_lines} unreadable line(s) in ${file}`)
    ctx.emit("UsageSummary", data, (d) =>
      renderBuckets([["period", d.period.days ? `last ${d.period.days} days` : "all recorded"], ["file", d.file]], d.totals, d.by_project, d.by_team),
    )
  },
})

export default {
  ...summary,
  subCommands: {
    export: () => import("./stats-export").then((m) => m.default),
    aggregate: () => import("./stats-aggregate").then((m) => m.default),
  },
}
