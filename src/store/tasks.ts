import { ConflictError, NotFoundError, ValidationError } from "../errors"
import { PgCode, pgCode, type Queryable } from "./sql"
import { isUuid, toTask, type Task, type TaskError, type TaskStatus, type Transition, type Usage } from "./task-types"
import { addUsage, CLAIM_EVENT, CLAIM_SET, requeueWhere, transitionSql, transitions, type Requeue } from "./task-sql"

// The task repository. Every state change is one SQL statement that updates
// the task and appends its task_event together (a data-modifying CTE), so the
// event log never misses or invents a transition, and a crash can never leave
// one without the other. A change that does not apply (wrong state, stale
// attempt) returns undefined instead of throwing: the caller decides.

export type NewTask = {
  description: string
  role?: string | null
  parentId?: string | null
  prompt?: string | null
  /** Higher runs first. Default 0. */
  priority?: number
  coordinate?: boolean
  source?: string | null
  /** Claims allowed before a requeue turns into a failure. Default 3. */
  maxAttempts?: number
  timeoutMs?: number | null
  metadata?: Record<string, unknown>
  /** Defaults to a new UUIDv7. */
  id?: string
}

export type TaskFilter = {
  status?: TaskStatus | readonly TaskStatus[]
  role?: string
  parentId?: string
  rootId?: string
  agentId?: string
  ownerDaemon?: string
  /** 1..500, default 50. */
  limit?: number
  /** nextCursor of the previous page. */
  cursor?: string
  /** Offset paging, when a cursor is not at hand. */
  offset?: number
  /** Default newest first. */
  order?: "newest" | "oldest"
}

export type TaskPage = { items: Task[]; nextCursor: string | null }

/** Who takes a task: the daemon (owner id) and, when known, the agent. */
export type Claimer = { owner: string; agentId?: string | null }

export type Outcome = {
  usage?: Partial<Usage>
  costUsd?: number
  durationMs?: number
  sessionId?: string
  /** Merged into the task's metadata. */
  metadata?: Record<string, unknown>
  /** Fencing: apply only while the task is still on this attempt (Task.attempts at claim). */
  attempt?: number
}

export type { Requeue } from "./task-sql"

/** Which pending tasks a claimer takes: `roles` (all when omitted); with includeUnrouted also those with no role yet. */
export type RoleFilter = { roles?: readonly string[]; includeUnrouted?: boolean }

/** SQL matching RoleFilter, with roles in param $n and includeUnrouted in $n+1. */
const roleMatch = (n: number) => `($${n}::text[] IS NULL OR role = ANY($${n}::text[]) OR ($${n + 1}::boolean AND role IS NULL))`

export function taskRepo(db: Queryable) {
  async function one(sql: string, params: unknown[]): Promise<Transition | undefined> {
    return transitions(await db.query(sql, params))[0]
  }

  return {
    async create(input: NewTask): Promise<Transition> {
      const id = input.id ?? Bun.randomUUIDv7()
      if (input.parentId != null && !isUuid(input.parentId)) throw new NotFoundError(`parent task ${input.parentId} not found`)
      // A root needs no parent lookup; skipping it makes the common create about twice as fast on PGlite.
      const place =
        input.parentId == null
          ? "$2::uuid, $1::uuid, 0"
          : "$2::uuid, COALESCE((SELECT root_id FROM parent), $1::uuid), COALESCE((SELECT depth + 1 FROM parent), 0)"
      const sql = transitionSql(
        `${input.parentId == null ? "" : "WITH parent AS (SELECT root_id, depth FROM tasks WHERE id = $2::uuid)"}
         INSERT INTO tasks (id, parent_id, root_id, depth, role, description, prompt, priority, coordinate, source, max_attempts, timeout_ms, metadata)
         VALUES ($1::uuid, ${place}, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
         RETURNING *`,
        `'created'`,
        `jsonb_build_object('status', changed.status, 'role', changed.role, 'priority', changed.priority, 'parentId', changed.parent_id)`,
      )
      try {
        const t = await one(sql, [
          id,
          input.parentId ?? null,
          input.role ?? null,
          input.description,
          input.prompt ?? null,
          input.priority ?? 0,
          input.coordinate ?? false,
          input.source ?? null,
          input.maxAttempts ?? 3,
          input.timeoutMs ?? null,
          input.metadata ?? {},
        ])
        return t!
      } catch (e) {
        if (pgCode(e) === PgCode.foreignKeyViolation) throw new NotFoundError(`parent task ${input.parentId} not found`, { cause: e })
        if (pgCode(e) === PgCode.uniqueViolation) throw new ConflictError(`task ${id} already exists`, { cause: e })
        throw e
      }
    },

    async get(id: string): Promise<Task | undefined> {
      if (!isUuid(id)) return undefined
      const [row] = await db.query("SELECT * FROM tasks WHERE id = $1", [id])
      return row ? toTask(row) : undefined
    },

    async list(filter: TaskFilter = {}): Promise<TaskPage> {
      const where: string[] = []
      const params: unknown[] = []
      const add = (clause: (n: string) => string, value: unknown) => {
        params.push(value)
        where.push(clause(`$${params.length}`))
      }
      if (filter.status !== undefined) add((n) => `status = ANY(${n}::text[])`, typeof filter.status === "string" ? [filter.status] : [...filter.status])
      if (filter.role !== undefined) add((n) => `role = ${n}`, filter.role)
      for (const [key, column] of [["parentId", "parent_id"], ["rootId", "root_id"]] as const) {
        const v = filter[key]
        if (v === undefined) continue
        if (!isUuid(v)) return { items: [], nextCursor: null }
        add((n) => `${column} = ${n}::uuid`, v)
      }
      if (filter.agentId !== undefined) add((n) => `agent_id = ${n}`, filter.agentId)
      if (filter.ownerDaemon !== undefined) add((n) => `owner_daemon = ${n}`, filter.ownerDaemon)
      const oldest = filter.order === "oldest"
      if (filter.cursor !== undefined) {
        if (!isUuid(filter.cursor)) throw new ValidationError("cursor is not one this server issued", { hint: "pass the nextCursor of the previous page, or no cursor for the first page" })
        add((n) => `id ${oldest ? ">" : "<"} ${n}::uuid`, filter.cursor)
      }
      const limit = Math.min(500, Math.max(1, Math.trunc(filter.limit ?? 50)))
      const offset = Math.max(0, Math.trunc(filter.offset ?? 0))
      const rows = await db.query(
        `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY id ${oldest ? "ASC" : "DESC"} LIMIT ${limit + 1} OFFSET ${offset}`,
        params,
      )
      const items = rows.slice(0, limit).map(toTask)
      return { items, nextCursor: rows.length > limit ? items.at(-1)!.id : null }
    },

    /** Tasks per status, every status present. */
    async counts(): Promise<Record<TaskStatus, number>> {
      const rows = await db.query<{ status: TaskStatus; n: number }>("SELECT status, count(*)::int AS n FROM tasks GROUP BY status")
      const out: Record<TaskStatus, number> = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 }
      for (const r of rows) out[r.status] = Number(r.n)
      return out
    },

    /** Take one specific pending task. Undefined when it is not pending (or another claimer holds it). */
    claim(id: string, by: Claimer): Promise<Transition | undefined> {
      if (!isUuid(id)) return Promise.resolve(undefined)
      return one(
        transitionSql(
          `UPDATE tasks SET ${CLAIM_SET}
           WHERE id = (SELECT id FROM tasks WHERE id = $3::uuid AND status = 'pending' FOR UPDATE SKIP LOCKED) AND status = 'pending'
           RETURNING *`,
          `'claimed'`,
          CLAIM_EVENT,
        ),
        [by.owner, by.agentId ?? null, id],
      )
    },

    /**
     * Take the next pending task (highest priority, then oldest) whose backoff
     * has passed, optionally only of some roles. FOR UPDATE SKIP LOCKED: two
     * claimers never take one task, and neither waits for the other.
     */
    claimNext(by: Claimer & RoleFilter): Promise<Transition | undefined> {
      return one(
        transitionSql(
          `UPDATE tasks SET ${CLAIM_SET}
           WHERE id = (SELECT id FROM tasks WHERE status = 'pending' AND available_at <= now() AND ${roleMatch(3)}
                       ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED)
             AND status = 'pending'
           RETURNING *`,
          `'claimed'`,
          CLAIM_EVENT,
        ),
        [by.owner, by.agentId ?? null, by.roles ? [...by.roles] : null, by.includeUnrouted ?? false],
      )
    },

    /** Pending tasks past their backoff, in claim order (to pick one and `claim` it by id). Reads only. */
    async listClaimable(filter: RoleFilter & { limit?: number } = {}): Promise<Task[]> {
      const rows = await db.query(
        `SELECT * FROM tasks WHERE status = 'pending' AND available_at <= now() AND ${roleMatch(1)}
         ORDER BY priority DESC, id LIMIT $3`,
        [filter.roles ? [...filter.roles] : null, filter.includeUnrouted ?? false, Math.min(500, Math.max(1, Math.trunc(filter.limit ?? 50)))],
      )
      return rows.map(toTask)
    },

    /**
     * The agent holding `attempt` took the task: an `accepted` event with
     * `data`, and `notes` (what the prompt stages did: memory used, tokens
     * saved) merged into `metadata.prompt`. Undefined when the attempt is not
     * the task's running one any more.
     */
    accept(id: string, a: { attempt: number; data: Record<string, unknown>; notes?: Record<string, unknown> }): Promise<Transition | undefined> {
      if (!isUuid(id)) return Promise.resolve(undefined)
      return one(
        transitionSql(
          `UPDATE tasks SET metadata = CASE WHEN $3::jsonb = '{}'::jsonb THEN metadata ELSE metadata || jsonb_build_object('prompt', $3::jsonb) END
           WHERE id = $1::uuid AND status = 'running' AND attempts = $2::int
           RETURNING *`,
          `'accepted'`,
          `$4::jsonb`,
        ),
        [id, a.attempt, a.notes ?? {}, a.data],
      )
    },

    /** Record progress of a running task. */
    progress(id: string, p: { progress?: number; message?: string; sessionId?: string; attempt?: number; data?: Record<string, unknown> }): Promise<Transition | undefined> {
      if (!isUuid(id)) return Promise.resolve(undefined)
      return one(
        transitionSql(
          `UPDATE tasks SET progress = COALESCE($2::real, progress), progress_message = COALESCE($3::text, progress_message),
             session_id = COALESCE($4::text, session_id), updated_at = now()
           WHERE id = $1::uuid AND status = 'running' AND ($5::int IS NULL OR attempts = $5::int)
           RETURNING *`,
          `'progress'`,
          `jsonb_build_object('progress', changed.progress, 'message', $3::text) || $6::jsonb`,
        ),
        [id, p.progress ?? null, p.message ?? null, p.sessionId ?? null, p.attempt ?? null, p.data ?? {}],
      )
    },

    /** running -> completed, with the result and what it cost. */
    complete(id: string, result: string, o: Outcome = {}): Promise<Transition | undefined> {
      if (!isUuid(id)) return Promise.resolve(undefined)
      const u = addUsage(6, o.usage, o.costUsd)
      return one(
        transitionSql(
          `UPDATE tasks SET status = 'completed', result = $2, duration_ms = $3::int, session_id = COALESCE($4::text, session_id),
             metadata = metadata || $5::jsonb, ${u.set}, progress = 1, finished_at = now(), updated_at = now()
           WHERE id = $1::uuid AND status = 'running' AND ($11::int IS NULL OR attempts = $11::int)
           RETURNING *`,
          `'completed'`,
          `jsonb_build_object('status', changed.status, 'attempt', changed.attempts, 'durationMs', changed.duration_ms, 'costUsd', changed.cost_usd,
             'usage', jsonb_build_object('inputTokens', changed.input_tokens, 'outputTokens', changed.output_tokens,
               'cacheReadTokens', changed.cache_read_tokens, 'cacheCreationTokens', changed.cache_creation_tokens))`,
        ),
        [id, result, o.durationMs ?? null, o.sessionId ?? null, o.metadata ?? {}, ...u.params, o.attempt ?? null],
      )
    },

    /** pending or running -> failed, for good (no retry; see requeue for that). */
    fail(id: string, error: TaskError, o: Outcome = {}): Promise<Transition | undefined> {
      if (!isUuid(id)) return Promise.resolve(undefined)
      const u = addUsage(5, o.usage, o.costUsd)
      return one(
        transitionSql(
          `UPDATE tasks SET status = 'failed', error = $2::jsonb, duration_ms = COALESCE($3::int, duration_ms),
             metadata = metadata || $4::jsonb, ${u.set}, finished_at = now(), updated_at = now()
           WHERE id = $1::uuid AND status IN ('pending', 'running') AND ($10::int IS NULL OR attempts = $10::int)
           RETURNING *`,
          `'failed'`,
          `jsonb_build_object('status', changed.status, 'attempt', changed.attempts, 'error', changed.error)`,
        ),
        [id, error, o.durationMs ?? null, o.metadata ?? {}, ...u.params, o.attempt ?? null],
      )
    },

    /**
     * running -> pending again (its agent died, its daemon restarted), or
     * -> failed when it has used all its attempts. The event (`requeued` or
     * `failed`) names the agent and daemon it was taken from.
     */
    requeue(id: string, r: Requeue): Promise<Transition | undefined> {
      if (!isUuid(id)) return Promise.resolve(undefined)
      return requeueWhere(db, "id = $1::uuid AND ($2::int IS NULL OR attempts = $2::int)", [id, r.attempt ?? null], r).then((t) => t[0])
    },

    /** Requeue (or fail) every task running under an owner or an agent. Returns what it changed. */
    requeueRunning(where: { owner: string } | { agentId: string }, r: Requeue): Promise<Transition[]> {
      return "owner" in where
        ? requeueWhere(db, "owner_daemon = $1", [where.owner], r)
        : requeueWhere(db, "agent_id = $1", [where.agentId], r)
    },

    /**
     * At daemon start: tasks this daemon left running when it died are
     * requeued, or failed once their attempts are used up.
     */
    recoverOrphans(owner: string): Promise<Transition[]> {
      return requeueWhere(db, "owner_daemon = $1", [owner], { reason: { code: "daemon_restarted", message: `daemon ${owner} stopped while the task was running` } })
    },

    /**
     * A dead daemon's running tasks, taken by the daemon that adopted it:
     * requeued, or failed once their attempts are used up. Tasks that were on
     * a remote agent wait `remoteDelayMs` before anyone else may take them:
     * their worker is likely alive and failing over, and reports them to its
     * new daemon, which claims them back by id (`claim` ignores the wait).
     */
    async adoptOrphans(deadOwner: string, r: { reason: TaskError; remoteDelayMs: number }): Promise<Transition[]> {
      const remote = "agent_id IN (SELECT id FROM agents WHERE driver = 'remote')"
      const far = await requeueWhere(db, `owner_daemon = $1 AND ${remote}`, [deadOwner], { reason: r.reason, delayMs: r.remoteDelayMs })
      const near = await requeueWhere(db, `owner_daemon = $1 AND (agent_id IS NULL OR NOT ${remote})`, [deadOwner], { reason: r.reason })
      return [...far, ...near]
    },

    /**
     * The agent running a task came to this daemon (its own daemon died, or
     * its link to it broke): the task moves to `by.owner` without ever being
     * pending, so no other agent can take it meanwhile. attempts + 1, which
     * fences whatever the previous owner still does with the old attempt. A
     * `claimed` event with `handover: true` and the previous owner.
     */
    async handover(id: string, by: { owner: string; agentId: string }): Promise<Transition | undefined> {
      if (!isUuid(id)) return undefined
      return one(
        transitionSql(
          `UPDATE tasks t SET owner_daemon = $1, attempts = t.attempts + 1, started_at = now(), updated_at = now()
           FROM (SELECT id, owner_daemon AS previous_owner FROM tasks WHERE id = $3::uuid FOR UPDATE) p
           WHERE t.id = p.id AND t.status = 'running' AND t.agent_id = $2 AND t.owner_daemon IS DISTINCT FROM $1
           RETURNING t.*, p.previous_owner`,
          `'claimed'`,
          `${CLAIM_EVENT} || jsonb_build_object('handover', true, 'previousOwner', changed.previous_owner)`,
        ),
        [by.owner, by.agentId, id],
      )
    },

    /** pending or running -> cancelled. previousStatus says whether an agent needs interrupting. */
    async cancel(id: string, reason = "cancelled"): Promise<(Transition & { previousStatus: TaskStatus }) | undefined> {
      if (!isUuid(id)) return undefined
      const rows = await db.query(
        transitionSql(
          `UPDATE tasks t SET status = 'cancelled', error = jsonb_build_object('code', 'cancelled', 'message', $2::text),
             finished_at = now(), updated_at = now()
           FROM (SELECT id, status AS previous_status FROM tasks WHERE id = $1::uuid FOR UPDATE) p
           WHERE t.id = p.id AND p.previous_status IN ('pending', 'running')
           RETURNING t.*, p.previous_status`,
          `'cancelled'`,
          `jsonb_build_object('status', changed.status, 'previousStatus', changed.previous_status, 'agentId', changed.agent_id, 'reason', $2::text)`,
        ),
        [id, reason],
      )
      const [t] = transitions(rows)
      return t && { ...t, previousStatus: rows[0]!.previous_status as TaskStatus }
    },
  }
}

export type TaskRepo = ReturnType<typeof taskRepo>

