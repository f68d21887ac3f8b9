import { command } from "./common"
import { connect } from "../daemon/client"
import { keyValues } from "../output"
import type { EmbedderHealth } from "../embeddings/types"

type Status = {
  daemon: { id: string; version: string; pid: number; startedAt: string; uptimeS: number; http: string; acp: string }
  tasks: Record<string, number>
  agents: { total: number; connected: number; healthy: number; busy: number; idle: number }
  store: { engine: string; location: string; vectors?: { available: boolean; off: string[]; reason?: string; hint?: string } }
  state: { backend: string; state: string; detail?: string }
  embeddings?: EmbedderHealth
  router: string
}

export default command({
  meta: { name: "status", description: "Status of the running daemon: tasks, agents, store" },
  async run(ctx) {
    const client = await connect()
    const s = await client.get<Status>("/api/v1/status")
    ctx.emit("DaemonStatus", s, (d) =>
      keyValues([
        ["daemon", `${d.daemon.id} ${d.daemon.version} (pid ${d.daemon.pid}, up ${d.daemon.uptimeS} s)`],
        ["http", d.daemon.http],
        ["acp", d.daemon.acp],
        ["tasks", Object.entries(d.tasks).map(([k, n]) => `${k} ${n}`).join(", ")],
        ["agents", `${d.agents.total} registered, ${d.agents.idle} idle, ${d.agents.busy} busy, ${d.agents.total - d.agents.healthy} unhealthy`],
        ["store", `${d.store.engine} (${d.store.location})`],
        ...(d.store.vectors && !d.store.vectors.available ? ([["off", `${d.store.vectors.off.join(", ")}: ${d.store.vectors.reason} (${d.store.vectors.hint})`]] as [string, string][]) : []),
        ["state", `${d.state.backend} ${d.state.state}${d.state.detail ? `: ${d.state.detail}` : ""}`],
        ...(d.embeddings ? ([["embeddings", embeddingsLine(d.embeddings)]] as [string, string][]) : []),
        ["router", d.router],
      ]),
    )
  },
})

/** `local:use-lite (semantic, 512-d) ok`, `hash:fh1 (lexical, 768-d) unused`, `... down: <why>`. */
function embeddingsLine(h: EmbedderHealth): string {
  const state = h.state === "unused" ? "not used yet" : h.state
  return `${h.model} (${h.kind}, ${h.dimensions}-d) ${state}${h.error ? `: ${h.error}` : ""}`
}
