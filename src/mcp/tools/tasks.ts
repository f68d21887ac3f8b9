import * as z from "zod"
import { isAppError, PrerequisiteError } from "../../errors"
import { FINAL_EVENT_TYPES, type TaskEventJson } from "../../orchestrator/events"
import type { TaskJson } from "../../daemon/task-json"
import { FINAL_STATUSES } from "../../store/task-types"
import type { DaemonLink } from "../daemon"
import { defineTool, type Call, type ToolContext } from "../tool"

// Tasks: create (and optionally wait for the outcome), status of one task or
// of the whole daemon, and the activity feed.

export type { TaskJson }

const taskPath = (id: string) => `/api/v1/tasks/${encodeURIComponent(id)}`

/** The fields of a task a client can rely on; the daemon sends more. */
export const TaskOutput = {
  id: z.string(),
  status: z.enum(["pending", "running", "completed", "failed", "cancelled"]),
  description: z.string(),
  role: z.string().nullable(),
  agentId: z.string().nullable(),
  result: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).loose().nullable(),
}

const seconds = (ms: number | null) => (ms === null ? "" : ` in ${(ms / 1000).toFixed(1)} s`)

/** One line a model can act on, and the task's result or error as the detail. */
export function taskAnswer(t: TaskJson): { summary: string; detail?: string } {
  const who = t.agentId ? ` by agent ${t.agentId}` : ""
  switch (t.status) {
    case "pending":
      return { summary: `Task ${t.id} is queued${t.role ? ` for role ${t.role}` : ""} (priority ${t.priority}); follow it with cca_status {"task_id": "${t.id}"}` }
    case "running": {
      const pct = t.progress === null ? "" : `, ${Math.round(t.progress * 100)}%`
      return { summary: `Task ${t.id} is running${t.agentId ? ` on agent ${t.agentId}` : ""}${pct}${t.progressMessage ? `: ${t.progressMessage}` : ""} (attempt ${t.attempts} of ${t.maxAttempts})` }
    }
    case "completed":
      return { summary: `Task ${t.id} completed${who}${seconds(t.durationMs)}; its result follows`, detail: t.result ?? "(no output)" }
    case "failed":
      return { summary: `Task ${t.id} failed${who} after ${t.attempts} attempt(s): ${t.error?.code ?? "error"}: ${t.error?.message ?? "no message"}` }
    case "cancelled":
      return { summary: `Task ${t.id} was cancelled${t.error?.message ? `: ${t.error.message}` : ""}` }
  }
}

/** The fields of a task worth a model's tokens (the daemon sends more). */
export function taskView(t: TaskJson) {
  const { id, status, description, role, priority, agentId, parentId, progress, progressMessage, attempts, maxAttempts, result, error, durationMs, costUsd, createdAt, finishedAt } = t
  return { id, status, description, role, priority, agentId, parentId, progress, progressMessage, attempts, maxAttempts, result, error, durationMs, costUsd, createdAt, finishedAt }
}

function eventLine(e: TaskEventJson): string {
  const d = e.data
  if (e.type === "progress") {
    const pct = typeof d.progress === "number" ? `${Math.round(d.progress * 100)}% ` : ""
    return `${e.type}: ${pct}${String(d.message ?? "")}`.trim()
  }
  if (e.type === "claimed" || e.type === "accepted") return `${e.type} by agent ${String(d.agentId ?? "?")}`
  return e.type
}

/**
 * Follow a task's event stream until its final event, then read the task. A
 * stream silent past the client's idle time (a half-open connection: no
 * event, no keepalive) is followed again from its last event id, `resumes`
 * times, instead of hanging the tool call.
 */
export async function waitForTask(daemon: DaemonLink, id: string, call: Call, resumes = 3): Promise<TaskJson> {
  let lastEventId: string | undefined
  try {
    for (let left = resumes; ; left--) {
      try {
        for await (const sse of daemon.events(`${taskPath(id)}/events`, { signal: call.signal, lastEventId })) {
          if (sse.id) lastEventId = sse.id
          const e = JSON.parse(sse.data) as TaskEventJson
          call.progress(`task ${id}: ${eventLine(e)}`)
          if (FINAL_EVENT_TYPES.has(e.type)) break
        }
        break
      } catch (e) {
        if (!(isAppError(e) && e.code === "stream_idle" && left > 0)) throw e
        call.progress(`task ${id}: the event stream went silent; following it again`)
      }
    }
    const task = await daemon.call<TaskJson>("GET", taskPath(id), { signal: call.signal })
    if (FINAL_STATUSES.includes(task.status)) return task
    throw new PrerequisiteError(`the daemon ended the event stream of task ${id} while it is still ${task.status}`)
  } catch (e) {
    if (isAppError(e) && e.code === "cancelled") throw e
    // The task was created: whatever broke the wait, say which task to look at.
    throw new PrerequisiteError(`task ${id} was queued, but waiting for it failed: ${(e as Error).message}`, { hint: `the task goes on in the daemon; check it with cca_status {"task_id": "${id}"}`, cause: e })
  }
}

type Status = {
  daemon: { id: string; version: string; uptimeS: number; http: string; acp: string }
  tasks: Record<string, number>
  agents: { total: number; connected: number; healthy: number; busy: number; idle: number }
  router: string
}

export function taskTools({ daemon }: ToolContext) {
  return [
    defineTool({
      name: "cca_task",
      title: "Start a task",
      description: "Queue a task for the cca agent pool; with wait=true, block until an agent finishes it and return its result.",
      input: {
        description: z.string().trim().min(1, "description must say what the task should do").max(100_000).describe("What to do, as you would tell a colleague"),
        priority: z.number().int().min(-1000).max(1000).optional().describe("Higher runs first (default 0)"),
        role: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "role must be a role name such as backend, frontend, qa").optional().describe("Role of the agent that should run it, e.g. backend; any role when left out"),
        coordinate: z.boolean().optional().describe("Let a coordinator split it into subtasks"),
        wait: z.boolean().optional().describe("Wait for the outcome instead of returning the id at once"),
      },
      output: TaskOutput,
      async run(args, call) {
        const { wait, ...body } = args
        const created = await daemon.call<{ id: string; task: TaskJson }>("POST", "/api/v1/tasks", { body, signal: call.signal })
        const task = wait ? await waitForTask(daemon, created.id, call) : created.task
        return { ...taskAnswer(task), data: taskView(task) }
      },
    }),
    defineTool({
      name: "cca_status",
      title: "Task or daemon status",
      description: "Status of one task (give task_id) or, without it, of the cca daemon: task counts, agents, recent tasks.",
      input: { task_id: z.string().min(1).max(100).optional().describe("A task id returned by cca_task") },
      readOnly: true,
      async run({ task_id }, call) {
        if (task_id) {
          const task = await daemon.call<TaskJson>("GET", taskPath(task_id), { signal: call.signal })
          return { ...taskAnswer(task), data: { task: taskView(task) } }
        }
        const [status, recent] = await Promise.all([
          daemon.call<Status>("GET", "/api/v1/status", { signal: call.signal }),
          daemon.call<{ items: TaskJson[] }>("GET", "/api/v1/tasks", { query: { limit: 10 }, signal: call.signal }),
        ])
        const counts = Object.entries(status.tasks).map(([k, n]) => `${k} ${n}`).join(", ")
        const a = status.agents
        return {
          summary: `cca daemon ${status.daemon.id} ${status.daemon.version}, up ${status.daemon.uptimeS} s at ${status.daemon.http}; tasks: ${counts || "none"}; agents: ${a.connected} connected (${a.idle} idle, ${a.busy} busy), ${a.total - a.healthy} unhealthy`,
          detail: recent.items.length ? ["recent tasks:", ...recent.items.map((t) => `${t.id}  ${t.status.padEnd(9)} ${t.role ?? "(any)"}  ${t.description.slice(0, 80)}`)].join("\n") : "no tasks yet",
          data: { status, recent: recent.items.map((t) => ({ id: t.id, status: t.status, role: t.role, description: t.description.slice(0, 200), agentId: t.agentId })) },
        }
      },
    }),
    defineTool({
      name: "cca_activity",
      title: "Recent activity",
      description: "Recent task events across the cca daemon (newest first): created, claimed, progress, completed, failed.",
      input: { limit: z.number().int().min(1).max(200).optional().describe("How many events (default 20)") },
      readOnly: true,
      async run({ limit }, call) {
        const { items } = await daemon.call<{ items: TaskEventJson[] }>("GET", "/api/v1/activity", { query: { limit: limit ?? 20 }, signal: call.signal })
        if (items.length === 0) return { summary: "no task activity yet", data: { events: [] } }
        return { summary: `${items.length} recent task event(s), newest first`, detail: items.map((e) => `${e.createdAt.slice(11, 19)}  ${e.taskId}  ${eventLine(e)}`).join("\n"), data: { events: items } }
      },
    }),
  ]
}
