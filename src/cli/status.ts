import { command } from "./common"
import { connect } from "../daemon/client"
import { keyValues, table } from "../output"
import type { EmbedderHealth } from "../embeddings/types"
import type { MemoryStatus } from "../memory/service"

// `cca status`: the daemon this CLI talks to, and the cluster it is part of
// (every daemon on the same database: lease, agents, running tasks).

type DaemonRow = {
  id: string
  host: string
  state: string
  http: string | null
  leaseExpiresAt: string | null
  adoptedBy: string | null
  events: string | null
  agents: number
  busyAgents: number
  runningTasks: number
  self: boolean
}

type Status = {
  daemon: { id: string; version: string; pid: number; startedAt: string; uptimeS: number; http: string; acp: string }
  tasks: Record<string, number>
  agents: { total: number; connected: number; healthy: number; busy: number; idle: number }
  store: { engine: string; location: string; vectors?: { available: boolean; off: string[]; reason?: string; hint?: string } }
  state: { backend: string; state: string; detail?: string; events?: string }
  embeddings?: EmbedderHealth
  memory?: MemoryStatus
  router: string
  cluster?: { leaseS: number; events: string; daemons: DaemonRow[]; adoptions: { daemonId: string; at: string; requeued: number; failed: number }[] } | null
}

function lease(d: DaemonRow): string {
  if (d.state === "adopted") return `adopted by ${d.adoptedBy}`
  if (!d.leaseExpiresAt) return "-"
  const s = Math.round((Date.parse(d.leaseExpiresAt) - Date.now()) / 1000)
  return d.state === "alive" ? `${Math.max(0, s)} s left` : d.state === "expired" ? `ran out ${-s} s ago` : "-"
}

function human(d: Status): string {
  const head = keyValues([
    ["daemon", `${d.daemon.id} ${d.daemon.version} (pid ${d.daemon.pid}, up ${d.daemon.uptimeS} s)`],
    ["http", d.daemon.http],
    ["acp", d.daemon.acp],
    ["tasks", Object.entries(d.tasks).map(([k, n]) => `${k} ${n}`).join(", ")],
    ["agents", `${d.agents.total} registered, ${d.agents.idle} idle, ${d.agents.busy} busy, ${d.agents.total - d.agents.healthy} unhealthy`],
    ["store", `${d.store.engine} (${d.store.location})`],
    ...(d.store.vectors && !d.store.vectors.available ? ([["off", `${d.store.vectors.off.join(", ")}: ${d.store.vectors.reason} (${d.store.vectors.hint})`]] as [string, string][]) : []),
    ["state", `${d.state.backend} ${d.state.state}${d.state.detail ? `: ${d.state.detail}` : ""}${d.state.events ? `; events via ${d.state.events}` : ""}`],
    ...(d.embeddings ? ([["embeddings", embeddingsLine(d.embeddings)]] as [string, string][]) : []),
    ...(d.memory ? ([["memory", memoryLine(d.memory)]] as [string, string][]) : []),
    ["router", d.router],
  ])
  const c = d.cluster
  if (!c || c.daemons.length <= 1) return head
  const rows = table(c.daemons, [
    { header: "daemon", get: (r) => `${r.id}${r.self ? " *" : ""}` },
    { header: "host", get: (r) => r.host },
    { header: "state", get: (r) => r.state },
    { header: "lease", get: lease },
    { header: "events", get: (r) => r.events ?? "-" },
    { header: "agents", get: (r) => `${r.agents} (${r.busyAgents} busy)`, align: "right" },
    { header: "running", get: (r) => r.runningTasks, align: "right" },
    { header: "http", get: (r) => r.http ?? "-" },
  ])
  const adopted = c.adoptions.length ? `\n\nadoptions by this daemon: ${c.adoptions.map((a) => `${a.daemonId} at ${a.at} (${a.requeued} requeued, ${a.failed} failed)`).join("; ")}` : ""
  return `${head}\n\ncluster (${c.daemons.filter((r) => r.state === "alive").length} alive, lease ${c.leaseS} s):\n${rows}${adopted}`
}

export default command({
  meta: { name: "status", description: "Status of the running daemon and its cluster: tasks, agents, store, daemons" },
  async run(ctx) {
    const client = await connect()
    const s = await client.get<Status>("/api/v1/status")
    ctx.emit("DaemonStatus", s, human)
  },
})

/** `local:use-lite (semantic, 512-d) ok`, `hash:fh1 (lexical, 768-d) unused`, `... down: <why>`. */
function embeddingsLine(h: EmbedderHealth): string {
  const state = h.state === "unused" ? "not used yet" : h.state
  return `${h.model} (${h.kind}, ${h.dimensions}-d) ${state}${h.error ? `: ${h.error}` : ""}`
}

/** `ok: 12 patterns (local:use-lite, hybrid, hnsw)`, `down: ollama embeddings down: ... (3 errors)`. */
function memoryLine(m: MemoryStatus): string {
  const what = `${m.patterns ?? "?"} patterns${m.stale ? ` (${m.stale} stale: cca memory reembed)` : ""}, ${m.model} ${m.search_type} ${m.index}`
  const errs = m.errors ? `; ${m.errors} failed operation${m.errors === 1 ? "" : "s"} since start` : ""
  return `${m.state}${m.error ? ` - ${m.error}` : ""}: ${what}${errs}`
}
