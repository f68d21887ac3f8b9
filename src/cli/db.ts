import { command, group } from "./common"
import { loadConfig } from "../config/load"
import { keyValues, table } from "../output"
import type { StoreOptions } from "../store/store"
import type { StoreReport } from "../store/report"

// `cca db status|migrate`: the SQL store the daemon uses (embedded PGlite, or
// PostgreSQL when postgres.url is set) and its migrations.

async function storeOptions(): Promise<StoreOptions> {
  const { config } = await loadConfig()
  return { postgresUrl: config.postgres.url || undefined, postgresPool: 1, dataDir: config.postgres.data_dir || undefined }
}

function human(r: StoreReport): string {
  const head = keyValues([
    ["engine", r.engine],
    ["location", r.location],
    ["initialised", r.initialised ? "yes" : "no (created by `cca db migrate` or the daemon)"],
    ["pgvector", r.pgvector ?? (r.vectors.available ? "-" : `none: ${r.vectors.off.join(", ")} off`)],
    ...(r.applied.length ? ([["applied now", r.applied.join(", ")]] as [string, string][]) : []),
  ])
  const rows = table(r.migrations, [
    { header: "version", get: (m) => m.version, align: "right" },
    { header: "name", get: (m) => m.name },
    { header: "state", get: (m) => m.state },
    { header: "applied at", get: (m) => m.appliedAt?.toISOString() ?? "" },
  ])
  return `${head}\n\n${rows}`
}

const status = command({
  meta: { name: "status", description: "Show the SQL store and the state of its migrations" },
  async run(ctx) {
    const { storeStatus } = await import("../store/report")
    const report = await storeStatus(await storeOptions())
    const pending = report.migrations.filter((m) => m.state === "pending").length
    if (!report.vectors.available) ctx.warn(`${report.vectors.reason}: ${report.vectors.off.join(", ")} off. Try: ${report.vectors.hint}`)
    if (report.initialised && pending > 0) ctx.warn(`${pending} migration(s) pending: run \`cca db migrate\` (the daemon also applies them at start)`)
    ctx.emit("DbStatus", report, human)
  },
})

const migrate = command({
  meta: { name: "migrate", description: "Apply pending migrations to the SQL store" },
  async run(ctx) {
    const { storeMigrate } = await import("../store/report")
    const report = await storeMigrate(await storeOptions())
    if (!report.vectors.available) ctx.warn(`${report.vectors.reason}: ${report.vectors.off.join(", ")} off (their migrations are skipped until it has pgvector). Try: ${report.vectors.hint}`)
    ctx.emit("DbMigrate", report, human)
  },
})

export default group({ name: "db", description: "The daemon's SQL store: status and migrations" }, {
  status: async () => status,
  migrate: async () => migrate,
})
