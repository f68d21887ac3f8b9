import type { Queryable } from "./sql"
import { toEvent, toTask, type TaskError, type Transition, type Usage } from "./task-types"

// The SQL the task repository's transitions share: one statement updates the
// task and appends its event (a data-modifying CTE), and requeueing.

const EVENT_COLUMNS = "e.id AS ev_id, e.task_id AS ev_task_id, e.type AS ev_type, e.data AS ev_data, e.created_at AS ev_created_at"

/** One statement: `update` (RETURNING the task's columns) and its event, joined. */
export function transitionSql(update: string, type: string, data: string): string {
  return `WITH changed AS (${update}),
e AS (INSERT INTO task_events (task_id, type, data) SELECT changed.id, ${type}, ${data} FROM changed RETURNING *)
SELECT changed.*, ${EVENT_COLUMNS} FROM changed JOIN e ON e.task_id = changed.id`
}

export function transitions(rows: Record<string, unknown>[]): Transition[] {
  return rows.map((r) => ({ task: toTask(r), event: toEvent(r, "ev_") }))
}

export const CLAIM_SET = `status = 'running', owner_daemon = $1, agent_id = $2, attempts = attempts + 1,
  started_at = now(), updated_at = now(), progress = NULL, progress_message = NULL`
export const CLAIM_EVENT = `jsonb_build_object('status', changed.status, 'attempt', changed.attempts, 'agentId', changed.agent_id, 'owner', changed.owner_daemon)`

/** The usage columns as `col = col + $n` (n from `first`), with their params. */
export function addUsage(first: number, usage: Partial<Usage> = {}, costUsd = 0): { set: string; params: number[] } {
  const set = `input_tokens = input_tokens + $${first}::int, output_tokens = output_tokens + $${first + 1}::int,
    cache_read_tokens = cache_read_tokens + $${first + 2}::int, cache_creation_tokens = cache_creation_tokens + $${first + 3}::int,
    cost_usd = cost_usd + $${first + 4}::float8`
  return { set, params: [usage.inputTokens ?? 0, usage.outputTokens ?? 0, usage.cacheReadTokens ?? 0, usage.cacheCreationTokens ?? 0, costUsd] }
}

export type Requeue = {
  /** Why: recorded in the event, and in the error if attempts are exhausted. */
  reason: TaskError
  /** Not claimable by claimNext before this many ms. */
  delayMs?: number
  attempt?: number
  usage?: Partial<Usage>
  costUsd?: number
}

export async function requeueWhere(db: Queryable, where: string, whereParams: unknown[], r: Requeue): Promise<Transition[]> {
  const n = whereParams.length
  const u = addUsage(n + 3, r.usage, r.costUsd)
  const exhausted = "t.attempts >= t.max_attempts"
  const rows = await db.query(
    transitionSql(
      `UPDATE tasks t SET
         status = CASE WHEN ${exhausted} THEN 'failed' ELSE 'pending' END,
         error = CASE WHEN ${exhausted} THEN jsonb_build_object('code', 'attempts_exhausted',
                   'message', 'gave up after ' || t.attempts || ' attempts: ' || ($${n + 1}::jsonb ->> 'message'),
                   'details', jsonb_build_object('lastError', $${n + 1}::jsonb)) ELSE NULL END,
         finished_at = CASE WHEN ${exhausted} THEN now() ELSE NULL END,
         agent_id = CASE WHEN ${exhausted} THEN t.agent_id ELSE NULL END,
         owner_daemon = CASE WHEN ${exhausted} THEN t.owner_daemon ELSE NULL END,
         available_at = now() + make_interval(secs => $${n + 2}::float8 / 1000),
         ${u.set}, updated_at = now()
       FROM (SELECT id, agent_id AS previous_agent, owner_daemon AS previous_owner FROM tasks
             WHERE status = 'running' AND ${where} FOR UPDATE) p
       WHERE t.id = p.id
       RETURNING t.*, p.previous_agent, p.previous_owner`,
      `CASE WHEN changed.status = 'failed' THEN 'failed' ELSE 'requeued' END`,
      `jsonb_build_object('status', changed.status, 'attempt', changed.attempts, 'reason', $${n + 1}::jsonb,
         'previousAgentId', changed.previous_agent, 'previousOwner', changed.previous_owner, 'error', changed.error)`,
    ),
    [...whereParams, r.reason, r.delayMs ?? 0, ...u.params],
  )
  return transitions(rows)
}
