import { Elysia } from "elysia"
import * as v from "valibot"
import { isBridge } from "../../acp/bridge"
import type { AgentInfo } from "../../acp/registry"
import { ConflictError, NotFoundError } from "../../errors"
import type { LogEntry, PoolAgent } from "../../pool/types"
import type { AgentState } from "../../state/types"
import type { DaemonContext } from "../context"
import { doc } from "../context"
import { errorResponse } from "../http-errors"
import { API_PREFIX } from "../prefix"
import { eventStream } from "../event-stream"
import { upgrade, wantsUpgrade } from "../upgrade"

// Agents: the local pool's (spawned here, Claude Code processes of this
// daemon) and the remote ones connected over ACP (`cca worker`). An agent's
// MCP bridge (`ID/mcp`, src/acp/bridge.ts) is a link, not an agent: not listed. Spawn, stop,
// logs, direct messages and the terminal of pty agents (attach, a WebSocket)
// are the pool's; hooks of pty agents come back through /agents/:id/hooks.

export function agentJson(a: AgentInfo) {
  return {
    id: a.agentId,
    role: a.role,
    kind: "remote" as const,
    driver: "remote",
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

/** A pool agent, its status and heartbeat as the state store has them (what other daemons see). */
export function localAgentJson(a: PoolAgent, live: AgentState | undefined) {
  const status = a.status === "stopped" ? "stopped" : (live?.status ?? a.status)
  return {
    ...a,
    kind: "local" as const,
    status,
    health: status === "restarting" || status === "stopped" ? ("unhealthy" as const) : ("healthy" as const),
    connected: a.status !== "stopped",
    taskIds: a.taskId ? [a.taskId] : [],
    lastHeartbeatAt: live ? new Date(live.lastHeartbeatAt).toISOString() : null,
  }
}

const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(200))
const Params = v.object({ id: Id })
const ListQuery = v.strictObject({
  role: v.optional(v.string()),
  health: v.optional(v.picklist(["healthy", "unhealthy"])),
})
const SpawnBody = v.strictObject({
  role: v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_-]{0,39}$/, "must be a role name: lowercase letters, digits, - and _")),
  driver: v.optional(v.picklist(["stream", "pty"], "must be stream or pty")),
  id: v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "must be lowercase letters, digits, - and _ (at most 63)"))),
})
const SendBody = v.strictObject({
  message: v.pipe(v.string(), v.minLength(1, "must not be empty"), v.maxLength(200_000)),
  /** Wait for the turn's result (default); false answers 202 at once. */
  wait: v.optional(v.boolean(), true),
  timeoutS: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(3600))),
})
const num = (max: number) => v.optional(v.pipe(v.string(), v.regex(/^\d+$/, "must be a whole number"), v.transform(Number), v.number(), v.maxValue(max)))
const LogsQuery = v.strictObject({ after: num(Number.MAX_SAFE_INTEGER), limit: num(1000) })
const HookBody = v.looseObject({ hook_event_name: v.pipe(v.string(), v.minLength(1)) })

export function agentRoutes(ctx: DaemonContext, sse: { keepaliveMs?: number } = {}) {
  const pool = ctx.pool
  const local = async (a: PoolAgent) => {
    await pool.flush(a.id)
    return localAgentJson(a, await ctx.state.getAgent(a.id).catch(() => undefined))
  }
  const remote = (id: string) => ctx.acp.agent(id)
  const localOnly = (id: string, what: string) => {
    if (pool.get(id)) return
    if (remote(id)) throw new ConflictError(`agent ${id} is a remote agent: ${what} is for agents of this daemon's pool`, { hint: "act on it where its `cca worker` runs" })
    throw new NotFoundError(`no agent ${id}`, { hint: "list agents with `cca agents list`" })
  }

  return new Elysia({ name: "agents", prefix: API_PREFIX })
    .get(
      "/agents",
      async ({ query }) => {
        const locals = await Promise.all(pool.list({ role: query.role }).map(local))
        const remotes = ctx.acp.agents({ role: query.role, health: query.health }).filter((a) => !isBridge(a) && !pool.get(a.agentId)).map(agentJson)
        return { items: [...locals.filter((a) => !query.health || a.health === query.health), ...remotes] }
      },
      { query: ListQuery, detail: doc({ summary: "Agents: this daemon's pool (kind local) and remote ones connected over ACP", tags: ["agents"] }) },
    )
    .post(
      "/agents",
      async ({ body, set }) => {
        const agent = await pool.spawn({ role: body.role, driver: body.driver, id: body.id })
        set.status = 201
        set.headers.location = `${API_PREFIX}/agents/${agent.id}`
        return local(agent)
      },
      {
        body: SpawnBody,
        detail: doc({
          summary: "Spawn a Claude Code agent; answers once it is ready",
          tags: ["agents"],
          responses: { 201: "Ready", 404: "No such role", 409: "The pool is full (agents.max_agents) or the id is taken", 502: "It did not start (details.lastOutput)", 503: "The role is degraded" },
        }),
      },
    )
    .get(
      "/agents/:id",
      async ({ params }) => {
        const a = pool.get(params.id)
        if (a) return local(a)
        const r = remote(params.id)
        if (!r) throw new NotFoundError(`no agent ${params.id}`, { hint: "list agents with `cca agents list`" })
        return agentJson(r)
      },
      { params: Params, detail: doc({ summary: "One agent", tags: ["agents"], responses: { 200: "The agent", 404: "No such agent" } }) },
    )
    .post(
      "/agents/:id/stop",
      async ({ params }) => {
        localOnly(params.id, "stop")
        return local(await pool.stop(params.id))
      },
      { params: Params, detail: doc({ summary: "Stop a pool agent (its running task goes back to the queue)", tags: ["agents"], responses: { 200: "Stopped", 404: "No such agent", 409: "A remote agent" } }) },
    )
    .delete(
      "/agents/:id",
      async ({ params }) => {
        localOnly(params.id, "stop")
        return local(await pool.stop(params.id))
      },
      { params: Params, detail: doc({ summary: "Stop a pool agent (same as POST /agents/:id/stop)", tags: ["agents"], responses: { 200: "Stopped", 404: "No such agent", 409: "A remote agent" } }) },
    )
    .get(
      "/agents/:id/logs",
      ({ params, query }) => {
        localOnly(params.id, "logs")
        return pool.logs(params.id, { after: query.after, limit: query.limit })
      },
      { params: Params, query: LogsQuery, detail: doc({ summary: "The agent's recent log (lifecycle, prompts, text, tools, turn ends), oldest first; ?after=SEQ pages on", tags: ["agents"], responses: { 200: "Entries", 404: "No such agent" } }) },
    )
    .get(
      "/agents/:id/logs/events",
      ({ params, query, request }) => {
        localOnly(params.id, "logs")
        const header = request.headers.get("last-event-id")
        const after = header && /^\d+$/.test(header) ? Number(header) : query.after
        return eventStream(request.signal, (send, end) => {
          // Read and watch in one turn of the event loop: no entry falls between them.
          let last = after ?? 0
          const emit = (e: LogEntry) => e.seq > last && (send("log", e, e.seq), (last = e.seq))
          for (const e of pool.logs(params.id, after === undefined ? { limit: 200 } : { after, limit: 1000 }).items) emit(e)
          const off = pool.watchLogs(params.id, emit)
          const offStop = pool.on("stopped", (e) => {
            if (e.agentId !== params.id) return
            send("stopped", { agentId: e.agentId })
            end()
          })
          return () => (off(), offStop())
        }, sse)
      },
      {
        params: Params,
        query: LogsQuery,
        detail: doc({ summary: "The agent's log as server-sent events (`log`, id = seq): the last 200 entries (or those after Last-Event-ID / ?after=), then live; `stopped` ends it", tags: ["agents"], sse: true, responses: { 200: "text/event-stream", 404: "No such agent" } }),
      },
    )
    .post(
      "/agents/:id/send",
      async ({ params, body, set }) => {
        localOnly(params.id, "send")
        const timeoutMs = body.timeoutS === undefined ? undefined : body.timeoutS * 1000
        if (!body.wait) {
          const running = pool.send(params.id, body.message, { timeoutMs })
          // Refusals (busy) are answered now; a turn that fails later is in the agent's log.
          const refused = await Promise.race([running.then(() => undefined, (e: unknown) => e), Bun.sleep(0).then(() => undefined)])
          if (refused) throw refused
          running.catch(() => {})
          set.status = 202
          return { agentId: params.id, accepted: true }
        }
        return { agentId: params.id, result: await pool.send(params.id, body.message, { timeoutMs }) }
      },
      {
        params: Params,
        body: SendBody,
        detail: doc({ summary: "A direct message to an idle agent, outside any task; with wait (default) the turn's result", tags: ["agents"], responses: { 200: "The turn's result", 202: "Sent (wait: false)", 404: "No such agent", 409: "Busy, or a remote agent", 504: "No answer within timeoutS" } }),
      },
    )
    .get(
      "/agents/:id/attach",
      ({ params, request }) => {
        localOnly(params.id, "attach")
        const agent = pool.get(params.id)!
        if (agent.driver !== "pty") throw new ConflictError(`agent ${params.id} runs the ${agent.driver} driver, which has no terminal to attach to`, { hint: `spawn a pty agent: cca agents spawn --role ${agent.role} --driver pty` })
        if (!wantsUpgrade(request)) return errorResponse(426, { code: "upgrade_required", message: "attach is a WebSocket", hint: `cca agents attach ${params.id}` }, { upgrade: "websocket" })
        if (!upgrade(request, { kind: "attach", agentId: params.id })) return errorResponse(400, { code: "upgrade_failed", message: "the WebSocket upgrade failed", hint: "connect with a WebSocket client (`cca agents attach ID`)" })
        return new Response(null, { status: 200 })
      },
      { params: Params, detail: doc({ summary: "WebSocket: the terminal of a pty agent (replay, live output, input, resize; see src/pool/attach.ts)", tags: ["agents"], responses: { 200: "Upgraded", 404: "No such agent", 426: "Not a WebSocket request" } }) },
    )
    .post(
      "/agents/:id/hooks",
      async ({ params, body }) => {
        localOnly(params.id, "hooks")
        await pool.hook(params.id, body)
        return {}
      },
      { params: Params, body: HookBody, detail: doc({ summary: "Claude Code hook input of a pty agent (Stop, Notification, UserPromptSubmit)", tags: ["agents"], responses: { 200: "Delivered", 404: "No such agent", 409: "Not a pty agent" } }) },
    )
    .get(
      "/workloads",
      async () => {
        const locals = pool.list()
        const agents = ctx.acp.agents().filter((a) => !isBridge(a) && !pool.get(a.agentId))
        const roles: Record<string, { agents: number; idle: number; busy: number; unhealthy: number; degraded: boolean }> = {}
        const count = (role: string, kind: "idle" | "busy" | "unhealthy") => {
          const r = (roles[role] ??= { agents: 0, idle: 0, busy: 0, unhealthy: 0, degraded: false })
          r.agents++
          r[kind]++
        }
        for (const a of locals) count(a.role, a.status === "idle" ? "idle" : a.status === "busy" || a.status === "waiting" ? "busy" : "unhealthy")
        for (const a of agents) count(a.role, a.health !== "healthy" || !a.connected ? "unhealthy" : a.taskIds.length > 0 ? "busy" : "idle")
        const health = pool.roles()
        for (const h of health) if (h.state === "degraded") (roles[h.role] ??= { agents: 0, idle: 0, busy: 0, unhealthy: 0, degraded: false }).degraded = true
        return {
          tasks: await ctx.store.tasks.counts(),
          roles,
          pool: { ...pool.capacity(), roles: health },
          agents: [
            ...locals.map((a) => ({ id: a.id, kind: "local", role: a.role, status: a.status, taskIds: a.taskId ? [a.taskId] : [], load: null, restarts: a.restarts })),
            ...agents.map((a) => ({ id: a.agentId, kind: "remote", role: a.role, status: agentJson(a).status, taskIds: a.taskIds, load: a.load ?? null, restarts: null })),
          ],
        }
      },
      { detail: doc({ summary: "Work per agent and per role (degraded roles included)", tags: ["agents"] }) },
    )
}
