import type { Task } from "../store/task-types"

// A task as the HTTP API sends it (dates as ISO strings). The one shape the
// routes produce and the CLI and MCP clients read; it imports no Elysia, so
// clients can use it.

export function taskJson(t: Task) {
  return {
    ...t,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
    availableAt: t.availableAt.toISOString(),
    startedAt: t.startedAt?.toISOString() ?? null,
    finishedAt: t.finishedAt?.toISOString() ?? null,
  }
}

export type TaskJson = ReturnType<typeof taskJson>
