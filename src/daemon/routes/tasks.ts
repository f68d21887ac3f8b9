import { Elysia } from "elysia"
import * as v from "valibot"
import { TASK_STATUSES, type Task, type TaskStatus } from "../../store/task-types"
import type { DaemonContext } from "../context"
import { doc } from "../context"
import { API_PREFIX } from "../prefix"
import { taskEventStream } from "../sse"
import { taskJson } from "../task-json"

// Tasks: create (202, asynchronous), list with filters and paging, get,
// cancel, and the event stream (server-sent events with Last-Event-ID replay).

const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(100))
const Int = (min: number, max: number) => v.pipe(v.string(), v.regex(/^\d+$/, "must be a whole number"), v.transform(Number), v.number(), v.integer(), v.minValue(min), v.maxValue(max))

export const CreateTaskBody = v.strictObject({
  description: v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty"), v.maxLength(100_000)),
  /** What the agent is sent, when it differs from the description. */
  prompt: v.optional(v.pipe(v.string(), v.maxLength(1_000_000))),
  role: v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must be a role name: lowercase letters, digits, - and _"))),
  priority: v.optional(v.pipe(v.number(), v.integer(), v.minValue(-1000), v.maxValue(1000))),
  /** Hand the task to a coordinator that splits it into subtasks. */
  coordinate: v.optional(v.boolean()),
  parentId: v.optional(Id),
  maxAttempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100))),
  timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(7 * 24 * 3600 * 1000))),
  metadata: v.optional(v.record(v.string(), v.unknown())),
})
export type CreateTaskBody = v.InferOutput<typeof CreateTaskBody>

const ListQuery = v.strictObject({
  // Elysia's query parser turns `a,b` into ["a", "b"] by itself when it cannot see the schema's type.
  status: v.optional(v.union([v.picklist(TASK_STATUSES), v.array(v.picklist(TASK_STATUSES))], `must be one or more of ${TASK_STATUSES.join(", ")}, comma-separated`)),
  role: v.optional(v.string()),
  parentId: v.optional(Id),
  /** Every task of one delegation tree (the root's id): the dashboard's task tree. */
  rootId: v.optional(Id),
  agentId: v.optional(v.string()),
  limit: v.optional(Int(1, 500)),
  offset: v.optional(Int(0, 1_000_000)),
  cursor: v.optional(Id),
  order: v.optional(v.picklist(["newest", "oldest"])),
})

const Params = v.object({ id: Id })
const CancelBody = v.optional(v.strictObject({ reason: v.optional(v.pipe(v.string(), v.maxLength(1000))) }))
const EventsQuery = v.strictObject({ after: v.optional(Int(0, Number.MAX_SAFE_INTEGER)) })

export function taskRoutes(ctx: DaemonContext, sse: { keepaliveMs?: number } = {}) {
  const o = ctx.orchestrator
  return new Elysia({ name: "tasks", prefix: `${API_PREFIX}/tasks` })
    .post(
      "",
      async ({ body, set }) => {
        const task = await o.createTask({ ...body, source: "api" })
        set.status = 202
        set.headers.location = `${API_PREFIX}/tasks/${task.id}`
        return { id: task.id, task: taskJson(task) }
      },
      { body: CreateTaskBody, detail: doc({ summary: "Create a task (queued; runs asynchronously)", tags: ["tasks"], responses: { 202: "Accepted: the task's id and state", 404: "parentId names no task" } }) },
    )
    .get(
      "",
      async ({ query }) => {
        const status: TaskStatus[] | undefined = query.status === undefined ? undefined : ([] as TaskStatus[]).concat(query.status)
        const page = await o.listTasks({ ...query, status, limit: query.limit ?? 50 })
        return { items: page.items.map(taskJson), nextCursor: page.nextCursor }
      },
      { query: ListQuery, detail: doc({ summary: "List tasks, newest first (filters; cursor or offset paging)", tags: ["tasks"] }) },
    )
    .get("/:id", async ({ params }) => taskJson(await o.getTask(params.id)), {
      params: Params,
      detail: doc({ summary: "One task", tags: ["tasks"], responses: { 200: "The task", 404: "No such task" } }),
    })
    .post("/:id/cancel", async ({ params, body }) => taskJson(await o.cancelTask(params.id, body?.reason ?? "cancelled by request")), {
      params: Params,
      body: CancelBody,
      detail: doc({ summary: "Cancel a pending or running task", tags: ["tasks"], responses: { 200: "The cancelled task", 404: "No such task", 409: "Already finished" } }),
    })
    .get(
      "/:id/events",
      async ({ params, query, request }) => {
        await o.getTask(params.id) // 404 before the stream starts
        const header = request.headers.get("last-event-id")
        const after = header && /^\d+$/.test(header) ? Number(header) : (query.after ?? 0)
        return taskEventStream(o, params.id, after, request.signal, sse)
      },
      {
        params: Params,
        query: EventsQuery,
        detail: doc({
          summary: "The task's events as server-sent events; ends after its final event. Replays after Last-Event-ID (or ?after=)",
          tags: ["tasks"],
          sse: true,
          responses: { 200: "text/event-stream", 404: "No such task" },
        }),
      },
    )
}
