import { Elysia } from "elysia"
import type { DaemonContext } from "../context"
import { doc } from "../context"
import { errorResponse } from "../http-errors"
import type { Metrics } from "../metrics"
import { API_PREFIX } from "../prefix"
import type { StoreHealth } from "../../store/store"
import type { TaskStatus } from "../../store/task-types"
import { cached, type Cached } from "../cached"

// Health (the one route without auth), status, the OpenAPI document and
// Prometheus metrics. The store's answers (its round trip for health, the task
// counts for status) are shared by all requests for up to a second: see cached.ts.

export type HealthState = "ok" | "degraded" | "down"

export type Probes = { storeHealth: Cached<StoreHealth>; taskCounts: Cached<Record<TaskStatus, number>> }

export function probes(ctx: DaemonContext, maxAgeMs = 1000): Probes {
  return { storeHealth: cached(() => ctx.store.health(), maxAgeMs), taskCounts: cached(() => ctx.store.tasks.counts(), maxAgeMs) }
}

export async function healthReport(ctx: DaemonContext, p: Probes) {
  const [store, state] = [(await p.storeHealth.get()).value, ctx.state.health()]
  const acp = ctx.acp.url ? { state: "ok" as const, connections: ctx.acp.status().connections } : { state: "down" as const, connections: 0 }
  const status: HealthState = store.state === "down" || acp.state === "down" ? "down" : state.state === "degraded" ? "degraded" : "ok"
  return { status, version: ctx.version, uptimeS: Math.round((Date.now() - ctx.startedAt.getTime()) / 1000), checks: { store, state, acp } }
}

export async function statusReport(ctx: DaemonContext, p: Probes) {
  const counts = await p.taskCounts.get()
  const agents = ctx.acp.agents()
  const connected = agents.filter((a) => a.connected)
  return {
    daemon: { id: ctx.daemonId, version: ctx.version, pid: ctx.pid, startedAt: ctx.startedAt.toISOString(), uptimeS: Math.round((Date.now() - ctx.startedAt.getTime()) / 1000), ...ctx.addresses() },
    tasks: { ...counts.value, inFlight: ctx.orchestrator.inFlight, countedAt: new Date(counts.at).toISOString() },
    agents: {
      total: agents.length,
      connected: connected.length,
      healthy: agents.filter((a) => a.health === "healthy").length,
      busy: connected.filter((a) => a.taskIds.length > 0).length,
      idle: connected.filter((a) => a.health === "healthy" && a.taskIds.length === 0).length,
    },
    store: { engine: ctx.store.engine, location: ctx.store.location },
    state: ctx.state.health(),
    router: ctx.orchestrator.router.name,
  }
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
