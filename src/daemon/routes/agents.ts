import { Elysia } from "elysia"
import * as v from "valibot"
import type { AgentInfo } from "../../acp/registry"
import { NotFoundError } from "../../errors"
import type { DaemonContext } from "../context"
import { doc } from "../context"
import { errorResponse } from "../http-errors"
import { API_PREFIX } from "../prefix"

// Agents connected over ACP (remote workers and, later, the local pool) and
// their workloads. Spawning and stopping local Claude Code agents arrive with
// the agent pool; until then those routes answer 501.

export function agentJson(a: AgentInfo) {
  return {
    id: a.agentId,
    role: a.role,
    capabilities: a.capabilities,
    host: a.host ?? null,
    version: a.version ?? null,
    health: a.health,
    connected: a.connected,
    status: !a.connected ? "disconnected" : a.health !== "healthy" ? "unhealthy" : a.taskIds.length > 0 ? "busy" : "idle",
    taskIds: a.taskIds,
    load: a.load ?? null,
    registeredAt: new Date(a.registeredAt).toISOString(),
    lastHeartbeatAt: new Date(a.lastHeartbeatAt).toISOString(),
  }
}

const ListQuery = v.strictObject({
  role: v.optional(v.string()),
  health: v.optional(v.picklist(["healthy", "unhealthy"])),
})
const Params = v.object({ id: v.pipe(v.string(), v.minLength(1), v.maxLength(200)) })

const poolMissing = (what: string) =>
  errorResponse(501, { code: "not_available", message: `${what} needs the agent pool, which is not in this daemon yet`, hint: "connect a remote agent over ACP instead (`cca worker --daemon ws://HOST:9100 --role ROLE`)" })

export function agentRoutes(ctx: DaemonContext) {
  return new Elysia({ name: "agents", prefix: API_PREFIX })
    .get("/agents", ({ query }) => ({ items: ctx.acp.agents({ role: query.role, health: query.health }).map(agentJson) }), {
      query: ListQuery,
      detail: doc({ summary: "Registered agents", tags: ["agents"] }),
    })
    .get(
      "/agents/:id",
      ({ params }) => {
        const a = ctx.acp.agent(params.id)
        if (!a) throw new NotFoundError(`no agent ${params.id}`, { hint: "list agents with `cca agents list`" })
        return agentJson(a)
      },
      { params: Params, detail: doc({ summary: "One agent", tags: ["agents"], responses: { 200: "The agent", 404: "No such agent" } }) },
    )
    .post("/agents", () => poolMissing("spawning an agent"), { detail: doc({ summary: "Spawn a local agent (501 until the agent pool lands)", tags: ["agents"], responses: { 501: "Not available yet" } }) })
    .post("/agents/:id/stop", () => poolMissing("stopping an agent"), {
      params: Params,
      detail: doc({ summary: "Stop a local agent (501 until the agent pool lands)", tags: ["agents"], responses: { 501: "Not available yet" } }),
    })
    .get(
      "/workloads",
      async () => {
        const agents = ctx.acp.agents()
        const roles: Record<string, { agents: number; idle: number; busy: number; unhealthy: number }> = {}
        for (const a of agents) {
          const r = (roles[a.role] ??= { agents: 0, idle: 0, busy: 0, unhealthy: 0 })
          r.agents++
          if (a.health !== "healthy" || !a.connected) r.unhealthy++
          else if (a.taskIds.length > 0) r.busy++
          else r.idle++
        }
        return {
          tasks: await ctx.store.tasks.counts(),
          roles,
          agents: agents.map((a) => ({ id: a.agentId, role: a.role, status: agentJson(a).status, taskIds: a.taskIds, load: a.load ?? null })),
        }
      },
      { detail: doc({ summary: "Work per agent and per role", tags: ["agents"] }) },
    )
}
