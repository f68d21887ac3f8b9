import { command } from "./common"
import { daysArg, parseDays } from "./stats"
import { DISABLED_NOTE, statsSettings } from "./stats-settings"
import { writeJsonAtomic } from "../files"
import { writeOut } from "../output"
import { paths } from "../paths"
import { buildExport } from "../stats/export"
import { goneSessions } from "../stats/liveness"
import { readUsage, summarize } from "../stats/summary"

export default command({
  meta: { name: "export", description: "Export the usage summary as JSON (--raw adds the events), to stdout or -o FILE" },
  args: {
    ...daysArg,
    raw: { type: "boolean", description: "Include the raw events" },
    output: { type: "string", alias: "o", description: "Write the export to FILE (atomically) instead of stdout" },
  },
  async run(ctx, args) {
    const file = paths.usageFile()
    const settings = await statsSettings()
    if (!settings.policy.enabled) ctx.warn(DISABLED_NOTE)
    const now = new Date()
    const log = await readUsage(file)
    const days = parseDays(args.days)
    const live = await goneSessions(log, { now, defaultExpectedHours: settings.defaultExpectedHours })
    if (live.warning) ctx.warn(live.warning)
    const summary = summarize(log, { now, days, defaultExpectedHours: settings.defaultExpectedHours, gone: live.gone })
    const from = summary.period.from
    const raw = args.raw ? log.events.filter((e) => !from || e.ts >= from) : undefined
    const doc = buildExport(summary, { raw, now })
    if (summary.bad_lines > 0) ctx.warn(`skipped ${summary.bad_lines} unreadable line(s) in ${file}`)
    if (args.output) {
      writeJsonAtomic(args.output, doc, 0o600)
      ctx.emit("UsageExportWritten", { path: args.output, sessions: summary.totals.sessions, raw: Boolean(raw) }, (d) => `wrote ${d.sessions} session(s) to ${d.path}`)
    } else if (ctx.json) ctx.emit("UsageExport", doc, () => undefined)
    else writeOut(JSON.stringify(doc, null, 2)) // an export is JSON either way
  },
})
