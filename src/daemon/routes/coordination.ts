import { Elysia } from "elysia"
import * as v from "valibot"
import { eventJson } from "../../orchestrator/events"
import { Channels } from "../../state/types"
import type { DaemonContext } from "../context"
import { doc } from "../context"
import { API_PREFIX } from "../prefix"

// Activity (the task event feed), broadcast to agents, and the ACP server's status.

const ActivityQuery = v.strictObject({
  limit: v.optional(v.pipe(v.string(), v.regex(/^\d+$/, "must be a whole number"), v.transform(Number), v.number(), v.minValue(1), v.maxValue(1000))),
  after: v.optional(v.pipe(v.string(), v.regex(/^\d{1,16}$/, "must be a whole number"), v.transform(Number), v.number(), v.maxValue(Number.MAX_SAFE_INTEGER))),
})

const BroadcastBody = v.strictObject({
  message: v.pipe(v.string(), v.minLength(1, "must not be empty"), v.maxLength(100_000)),
  role: v.optional(v.pipe(v.string(), v.maxLength(64))),
  data: v.optional(v.unknown()),
})

export function coordinationRoutes(ctx: DaemonContext) {
  return new Elysia({ name: "coordination", prefix: API_PREFIX })
    .get(
      "/activity",
      async ({ query }) => {
        const events = query.after === undefined ? await ctx.store.events.recent(query.limit ?? 50) : await ctx.store.events.listAll({ afterId: query.after, limit: query.limit ?? 50 })
        return { items: events.map(eventJson) }
      },
      { query: ActivityQuery, detail: doc({ summary: "Recent task events across all tasks (newest first; with ?after=ID, oldest first from there)", tags: ["activity"] }) },
    )
    .post(
      "/broadcast",
      async ({ body }) => {
        const remote = ctx.acp.broadcast({ message: body.message, role: body.role, data: body.data, from: "api" })
        const local = ctx.pool.deliver({ from: "api", message: body.message, role: body.role })
        await ctx.state.publish(Channels.broadcast, { from: "api", daemonId: ctx.daemonId, ...body }).catch(() => {}) // other daemons relay it to their agents
        return { recipients: remote + local.length, remote, local: local.length }
      },
      {
        body: BroadcastBody,
        detail: doc({ summary: "Send a message to every agent (or one role's): remote agents get it over ACP, this daemon's pool agents in front of their next prompt; counts are this daemon's", tags: ["activity"] }),
      },
    )
    .get("/acp/status", () => ctx.acp.status(), { detail: doc({ summary: "The ACP server: connections, agents, message counters", tags: ["acp"] }) })
}
