import { NotFoundError } from "../errors"
import { PgCode, pgCode, type Queryable } from "./sql"
import { isUuid, toEvent, type TaskEvent } from "./task-types"

// The task event log. Transitions append their own events (see tasks.ts);
// `append` is for everything else a task reports (output, delegation, tool
// calls). Ids only grow, so "everything after id N" is how a reconnecting
// SSE client (Last-Event-ID) or a poller catches up.
//
// Across several daemons on one PostgreSQL, ids are handed out at insert and
// committed in any order, so a global reader may see id N+1 before N. Per
// task it holds: transitions of one task serialise on its row lock.

export type EventPage = { afterId?: number; limit?: number }

const clampLimit = (limit: number | undefined) => Math.min(1000, Math.max(1, Math.trunc(limit ?? 500)))

export function eventRepo(db: Queryable) {
  return {
    async append(taskId: string, type: string, data: Record<string, unknown> = {}): Promise<TaskEvent> {
      if (!isUuid(taskId)) throw new NotFoundError(`task ${taskId} not found`)
      try {
        const [row] = await db.query("INSERT INTO task_events (task_id, type, data) VALUES ($1::uuid, $2, $3::jsonb) RETURNING *", [taskId, type, data])
        return toEvent(row!)
      } catch (e) {
        if (pgCode(e) === PgCode.foreignKeyViolation) throw new NotFoundError(`task ${taskId} not found`, { cause: e })
        throw e
      }
    },

    /** One task's events after `afterId`, oldest first. */
    async list(taskId: string, page: EventPage = {}): Promise<TaskEvent[]> {
      if (!isUuid(taskId)) return []
      const rows = await db.query("SELECT * FROM task_events WHERE task_id = $1::uuid AND id > $2 ORDER BY id LIMIT $3", [taskId, page.afterId ?? 0, clampLimit(page.limit)])
      return rows.map((r) => toEvent(r))
    },

    /** Every task's events after `afterId`, oldest first: the activity feed. */
    async listAll(page: EventPage = {}): Promise<TaskEvent[]> {
      const rows = await db.query("SELECT * FROM task_events WHERE id > $1 ORDER BY id LIMIT $2", [page.afterId ?? 0, clampLimit(page.limit)])
      return rows.map((r) => toEvent(r))
    },

    /** The newest events, newest first (for "recent activity"). */
    async recent(limit = 50): Promise<TaskEvent[]> {
      const rows = await db.query("SELECT * FROM task_events ORDER BY id DESC LIMIT $1", [clampLimit(limit)])
      return rows.map((r) => toEvent(r))
    },
  }
}

export type EventRepo = ReturnType<typeof eventRepo>
