import { Elysia } from "elysia"
import { isBridge } from "../../acp/bridge"
import type { DaemonContext } from "../context"
import { doc } from "../context"
import { errorResponse } from "../http-errors"
import type { Metrics } from "../metrics"
import { API_PREFIX } from "../prefix"
import type { StoreHealth } from "../../store/store"
import type { VectorSupport } from "../../store/vector-support"
import type { ClusterView } from "../../orchestrator/cluster"
import type { TaskStatus } from "../../store/task-types"
import { cached, type Cached } from "../cached"
import type { MemoryCounts } from "../../memory/service"

// Health (the one route without auth), status, the OpenAPI document and
// Prometheus metrics. The store's answers (its round trip for health, the task
// counts for status) are shared by all requests for up to a second: see cached.ts.

export type HealthState = "ok" | "degraded" | "down"

type Counts = Record<TaskStatus, number> & { countedAt: string }

export type Probes = { storeHealth: Cached<StoreHealth>; taskCounts: Cached<Counts>; cluster: Cached<ClusterView | null>; memory: Cached<MemoryCounts>; startedAt: string }

export function probes(ctx: DaemonContext, maxAgeMs = 1000): Probes {
  return {
    storeHealth: cached(() => ctx.store.health(), maxAgeMs),
    taskCounts: cached(async () => ({ ...(await ctx.store.tasks.counts()), countedAt: new Date().toISOString() }), maxAgeMs),
    cluster: cached(async () => (ctx.cluster ? await ctx.cluster.view() : null), maxAgeMs),
    memory: cached(() => ctx.memory.counts(), maxAgeMs),
    startedAt: ctx.startedAt.toISOString(),
  }
}

export async function healthReport(ctx: DaemonContext, p: Probes) {
  const [store, state] = [(await p.storeHealth.get()).value, ctx.state.health()]
  const acp = ctx.acp.url ? { state: "ok" as const, connections: ctx.acp.status().connections } : { state: "down" as const, connections: 0 }
  const pool = poolCheck(ctx)
  // A provider that failed degrades the daemon (memory, code search and routing features cannot embed) without stopping tasks.
  const embeddings = ctx.embedder.health()
  const status: HealthState =
    store.state === "down" || acp.state === "down" ? "down" : state.state === "degraded" || pool.state === "degraded" || embeddings.state === "down" ? "degraded" : "ok"
  return { status, version: ctx.version, uptimeS: Math.round((Date.now() - ctx.startedAt.getTime()) / 1000), checks: { store, state, acp, pool, embeddings } }
}

/** The agent pool: degraded while a role's circuit is open after repeated crashes. */
function poolCheck(ctx: DaemonContext) {
  const degraded = ctx.pool.roles().filter((r) => r.state === "degraded")
  return { state: degraded.length ? ("degraded" as const) : ("ok" as const), ...ctx.pool.capacity(), degradedRoles: degraded.map((r) => ({ role: r.role, reason: r.reason, retryAt: r.retryAt })) }
}

/** The status; synchronous while the task counts are fresh (the hot path of a polled endpoint). */
export function statusReport(ctx: DaemonContext, p: Probes) {
  const counts = p.taskCounts.peek()
  const cluster = p.cluster.peek()
  const memory = p.memory.peek()
  if (counts && cluster && memory) return statusOf(ctx, p, counts.value, cluster.value, memory.value)
  return Promise.all([p.taskCounts.get(), p.cluster.get(), p.memory.get()]).then(([c, cl, m]) => statusOf(ctx, p, c.value, cl.value, m.value))
}

function statusOf(ctx: DaemonContext, p: Probes, counts: Counts, cluster: ClusterView | null, memory: MemoryCounts) {
  const agents = { total: 0, connected: 0, healthy: 0, busy: 0, idle: 0 }
  for (const a of ctx.pool.list()) {
    agents.total++
    if (a.status === "restarting" || a.status === "stopping") continue
    agents.healthy++
    agents.connected++
    if (a.status === "busy" || a.status === "waiting") agents.busy++
    else if (a.status === "idle") agents.idle++
  }
  for (const a of ctx.acp.agents()) {
    if (isBridge(a) || ctx.pool.get(a.agentId)) continue
    agents.total++
    if (a.health === "healthy") agents.healthy++
    if (!a.connected) continue
    agents.connected++
    if (a.taskIds.length > 0) agents.busy++
    else if (a.health === "healthy") agents.idle++
  }
  return {
    daemon: { id: ctx.daemonId, version: ctx.version, pid: ctx.pid, startedAt: p.startedAt, uptimeS: Math.round((Date.now() - ctx.startedAt.getTime()) / 1000), http: ctx.addresses().http, acp: ctx.addresses().acp },
    tasks: { ...counts, inFlight: ctx.orchestrator.inFlight },
    agents,
    pool: poolCheck(ctx),
    store: { engine: ctx.store.engine, location: ctx.store.location, pgvector: ctx.store.pgvector ?? null, vectors: vectorsJson(ctx.store.vectors) },
    state: ctx.state.health(),
    embeddings: ctx.embedder.health(),
    memory: ctx.memory.status(memory),
    router: ctx.orchestrator.router.name,
    cluster: cluster && { ...cluster, events: ctx.state.health().events },
  }
}

/** On a PostgreSQL without pgvector: what is off, why, and the fix. */
function vectorsJson(v: VectorSupport) {
  return v.available ? { available: true, off: [] as string[] } : { available: false, off: v.off, reason: v.reason, hint: v.hint }
}

export function systemRoutes(ctx: DaemonContext, metrics: Metrics, openapi: () => Record<string, unknown>) {
  const p = probes(ctx)
  return new Elysia({ name: "system" })
    .get(
      `${API_PREFIX}/health`,
      async () => {
        const report = await healthReport(ctx, p)
        if (report.status !== "down") return report
        return errorResponse(503, { code: "unavailable", message: "the daemon is down: a dependency does not answer", hint: "see checks in details, and the daemon log", details: report })
      },
      { detail: doc({ summary: "Health of the daemon and each dependency (no API key needed)", tags: ["system"], public: true, responses: { 200: "ok or degraded", 503: "down" } }) },
    )
    .get(`${API_PREFIX}/status`, () => statusReport(ctx, p), { detail: doc({ summary: "Daemon, task, agent and store status (task counts at most 1 s old: see tasks.countedAt)", tags: ["system"] }) })
    .get(`${API_PREFIX}/openapi.json`, () => openapi(), { detail: doc({ summary: "This document", tags: ["system"] }) })
    .get(
      "/metrics",
      async () => new Response(await metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } }),
      { detail: doc({ summary: "Prometheus metrics", tags: ["system"], text: true }) },
    )
}
