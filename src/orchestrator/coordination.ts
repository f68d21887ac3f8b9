import { NotFoundError, ValidationError } from "../errors"
import type { Queryable } from "../store/sql"
import type { Store } from "../store/store"
import { isUuid, toTask, type Task, type TaskError, type TaskEvent, type Usage } from "../store/task-types"

// Delegation trees. A coordinator's `cca_delegate` makes a child task (parent
// id, root id, depth); children are routed like any task. The depth is capped
// (tasks.max_depth), so agents delegating to agents cannot recurse without
// end. When a task that delegated completes, its aggregated result is the
// coordinator's own answer plus its children's outcomes, stored in the
// task's metadata as `aggregate` (shape below); a child that ends after its
// parent brings the parent's aggregate up to date.

export type ChildOutcome = {
  id: string
  role: string | null
  description: string
  status: Task["status"]
  agentId: string | null
  result: string | null
  error: TaskError | null
  usage: Usage
  costUsd: number
  durationMs: number | null
}

export type Aggregate = {
  /** The coordinator's final answer (also the task's `result`). */
  answer: string
  /** Its direct subtasks, oldest first, as they stood when this was computed. */
  children: ChildOutcome[]
  /** Children not finished yet (they update this aggregate when they end). */
  pending: number
  /** The task and every task below it: count, tokens, cost. */
  total: { tasks: number; usage: Usage; costUsd: number }
  updatedAt: string
}

/** The parent of a new child task, checked against the depth cap. */
export async function parentFor(db: Queryable, parentId: string, maxDepth: number): Promise<Task> {
  const [row] = isUuid(parentId) ? await db.query("SELECT * FROM tasks WHERE id = $1::uuid", [parentId]) : []
  if (!row) throw new NotFoundError(`parent task ${parentId} not found`, { hint: "delegate from a running task, or give the id of an existing task as parentId" })
  const parent = toTask(row)
  if (parent.depth + 1 > maxDepth) {
    throw new ValidationError(`task ${parentId} is at delegation depth ${parent.depth}; a subtask would exceed the limit of ${maxDepth}`, {
      hint: "do this part yourself instead of delegating it, or raise tasks.max_depth in cca.toml",
      details: { parentDepth: parent.depth, maxDepth },
    })
  }
  return parent
}

const SUBTREE = `WITH RECURSIVE sub AS (
  SELECT id FROM tasks WHERE parent_id = $1::uuid
  UNION ALL SELECT t.id FROM tasks t JOIN sub ON t.parent_id = sub.id)`

function add(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheCreationTokens: a.cacheCreationTokens + b.cacheCreationTokens,
  }
}

/**
 * The aggregate of `task` given its answer and its own usage and cost (the
 * totals so far, including the attempt being finished when called before the
 * completion is stored).
 */
export async function aggregateOf(db: Queryable, taskId: string, answer: string, own: { usage: Usage; costUsd: number }): Promise<Aggregate> {
  const [children, [sums]] = await Promise.all([
    db.query("SELECT * FROM tasks WHERE parent_id = $1::uuid ORDER BY id", [taskId]),
    db.query<Record<string, unknown>>(
      `${SUBTREE} SELECT count(*)::int AS n, COALESCE(sum(input_tokens), 0)::bigint AS i, COALESCE(sum(output_tokens), 0)::bigint AS o,
         COALESCE(sum(cache_read_tokens), 0)::bigint AS cr, COALESCE(sum(cache_creation_tokens), 0)::bigint AS cc, COALESCE(sum(cost_usd), 0)::float8 AS c
       FROM tasks WHERE id IN (SELECT id FROM sub)`,
      [taskId],
    ),
  ])
  const kids = children.map(toTask)
  const below: Usage = { inputTokens: Number(sums?.i ?? 0), outputTokens: Number(sums?.o ?? 0), cacheReadTokens: Number(sums?.cr ?? 0), cacheCreationTokens: Number(sums?.cc ?? 0) }
  return {
    answer,
    children: kids.map((c) => ({
      id: c.id,
      role: c.role,
      description: c.description,
      status: c.status,
      agentId: c.agentId,
      result: c.result,
      error: c.error,
      usage: c.usage,
      costUsd: c.costUsd,
      durationMs: c.durationMs,
    })),
    pending: kids.filter((c) => c.status === "pending" || c.status === "running").length,
    total: { tasks: 1 + Number(sums?.n ?? 0), usage: add(own.usage, below), costUsd: own.costUsd + Number(sums?.c ?? 0) },
    updatedAt: new Date().toISOString(),
  }
}

/** Pending and running tasks below `taskId` (children, their children, ...), deepest last. */
export async function openDescendants(db: Queryable, taskId: string): Promise<string[]> {
  const rows = await db.query<{ id: string }>(`${SUBTREE} SELECT t.id FROM tasks t JOIN sub ON t.id = sub.id WHERE t.status IN ('pending', 'running') ORDER BY t.depth, t.id`, [taskId])
  return rows.map((r) => String(r.id))
}

/** Replace a finished task's aggregate (metadata.aggregate). */
export async function storeAggregate(db: Queryable, taskId: string, aggregate: Aggregate): Promise<void> {
  await db.query(`UPDATE tasks SET metadata = metadata || jsonb_build_object('aggregate', $2::jsonb), updated_at = now() WHERE id = $1::uuid`, [taskId, aggregate])
}

/** The aggregate of a task completing now with `outcome` (its usage and cost added to what earlier attempts used). */
export function completionAggregate(db: Queryable, task: Task, outcome: { output?: string; usage?: Partial<Usage>; costUsd?: number }): Promise<Aggregate> {
  const u = outcome.usage ?? {}
  const usage: Usage = {
    inputTokens: task.usage.inputTokens + (u.inputTokens ?? 0),
    outputTokens: task.usage.outputTokens + (u.outputTokens ?? 0),
    cacheReadTokens: task.usage.cacheReadTokens + (u.cacheReadTokens ?? 0),
    cacheCreationTokens: task.usage.cacheCreationTokens + (u.cacheCreationTokens ?? 0),
  }
  return aggregateOf(db, task.id, outcome.output ?? "", { usage, costUsd: task.costUsd + (outcome.costUsd ?? 0) })
}

/** A subtask ended: a `child` event on its parent, and a parent that already completed gets its aggregate brought up to date. */
export async function childEnded(store: Store, task: Task, publish: (e: TaskEvent, parent: Task) => Promise<void>): Promise<void> {
  const parent = task.parentId ? await store.tasks.get(task.parentId) : undefined
  if (!parent) return
  await publish(await store.events.append(parent.id, "child", { childId: task.id, status: task.status, role: task.role, agentId: task.agentId }), parent)
  if (parent.status === "completed") await storeAggregate(store.sql, parent.id, await aggregateOf(store.sql, parent.id, parent.result ?? "", parent))
}
