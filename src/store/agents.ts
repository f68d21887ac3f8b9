import type { Queryable } from "./sql"

// The agents table: what the pool knows about each agent, kept across daemon
// restarts (its live heartbeat and pub/sub go through src/state). status is
// the pool's own vocabulary: starting, idle, busy, unhealthy, stopping,
// stopped, crashed.

export type AgentRecord = {
  id: string
  role: string
  driver: string
  status: string
  daemonId: string | null
  workerId: string | null
  pid: number | null
  sessionId: string | null
  workdir: string | null
  currentTaskId: string | null
  restarts: number
  metadata: Record<string, unknown>
  createdAt: Date
  updatedAt: Date
  startedAt: Date | null
  lastHeartbeatAt: Date | null
  stoppedAt: Date | null
}

/** Fields to write; an omitted field keeps its stored value (or its default on insert). */
export type AgentUpsert = {
  id: string
  role: string
  driver?: string
  status?: string
  daemonId?: string | null
  workerId?: string | null
  pid?: number | null
  sessionId?: string | null
  workdir?: string | null
  currentTaskId?: string | null
  metadata?: Record<string, unknown>
}

export type AgentPatch = Partial<Pick<AgentUpsert, "pid" | "sessionId" | "workdir" | "currentTaskId" | "metadata">> & {
  /** Count one more restart. */
  restarted?: boolean
}

const STOPPED = ["stopped", "crashed"]

const COLUMNS: Record<string, string> = {
  id: "id",
  role: "role",
  driver: "driver",
  status: "status",
  daemonId: "daemon_id",
  workerId: "worker_id",
  pid: "pid",
  sessionId: "session_id",
  workdir: "workdir",
  currentTaskId: "current_task_id",
  metadata: "metadata",
}

const d = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)))
const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))

function toAgent(r: Record<string, unknown>): AgentRecord {
  return {
    id: String(r.id),
    role: String(r.role),
    driver: String(r.driver),
    status: String(r.status),
    daemonId: s(r.daemon_id),
    workerId: s(r.worker_id),
    pid: r.pid === null || r.pid === undefined ? null : Number(r.pid),
    sessionId: s(r.session_id),
    workdir: s(r.workdir),
    currentTaskId: s(r.current_task_id),
    restarts: Number(r.restarts),
    metadata: (r.metadata as Record<string, unknown>) ?? {},
    createdAt: d(r.created_at)!,
    updatedAt: d(r.updated_at)!,
    startedAt: d(r.started_at),
    lastHeartbeatAt: d(r.last_heartbeat_at),
    stoppedAt: d(r.stopped_at),
  }
}

function cast(column: string): string {
  return column === "metadata" ? "::jsonb" : column === "current_task_id" ? "::uuid" : ""
}

export function agentRepo(db: Queryable) {
  return {
    /** Register an agent at (re)start: insert it, or update the given fields and restart its clock. */
    async upsert(a: AgentUpsert): Promise<AgentRecord> {
      const entries = Object.entries(a).filter(([k, v]) => v !== undefined && k in COLUMNS)
      const cols = entries.map(([k]) => COLUMNS[k]!)
      const values = cols.map((c, i) => `$${i + 1}${cast(c)}`)
      const updates = cols.filter((c) => c !== "id").map((c) => `${c} = EXCLUDED.${c}`)
      const [row] = await db.query(
        `INSERT INTO agents (${cols.join(", ")}, started_at) VALUES (${values.join(", ")}, now())
         ON CONFLICT (id) DO UPDATE SET ${[...updates, "updated_at = now()", "started_at = now()", "stopped_at = NULL"].join(", ")}
         RETURNING *`,
        entries.map(([, v]) => v),
      )
      return toAgent(row!)
    },

    async get(id: string): Promise<AgentRecord | undefined> {
      const [row] = await db.query("SELECT * FROM agents WHERE id = $1", [id])
      return row ? toAgent(row) : undefined
    },

    /** Agents, oldest first. `status` may be one or several. */
    async list(filter: { status?: string | readonly string[]; role?: string; daemonId?: string } = {}): Promise<AgentRecord[]> {
      const status = filter.status === undefined ? null : typeof filter.status === "string" ? [filter.status] : [...filter.status]
      const rows = await db.query(
        `SELECT * FROM agents WHERE ($1::text[] IS NULL OR status = ANY($1::text[]))
           AND ($2::text IS NULL OR role = $2) AND ($3::text IS NULL OR daemon_id = $3)
         ORDER BY created_at, id`,
        [status, filter.role ?? null, filter.daemonId ?? null],
      )
      return rows.map(toAgent)
    },

    /** Set an agent's status (and a few fields with it). Undefined if there is no such agent. */
    async markState(id: string, status: string, patch: AgentPatch = {}): Promise<AgentRecord | undefined> {
      const [row] = await db.query(
        `UPDATE agents SET status = $2,
           pid = CASE WHEN $3::boolean THEN $4::int ELSE pid END,
           session_id = CASE WHEN $5::boolean THEN $6::text ELSE session_id END,
           workdir = CASE WHEN $7::boolean THEN $8::text ELSE workdir END,
           current_task_id = CASE WHEN $9::boolean THEN $10::uuid ELSE current_task_id END,
           metadata = metadata || $11::jsonb,
           restarts = restarts + CASE WHEN $12::boolean THEN 1 ELSE 0 END,
           stopped_at = CASE WHEN $2 = ANY($13::text[]) THEN now() ELSE NULL END,
           updated_at = now()
         WHERE id = $1 RETURNING *`,
        [
          id,
          status,
          "pid" in patch,
          patch.pid ?? null,
          "sessionId" in patch,
          patch.sessionId ?? null,
          "workdir" in patch,
          patch.workdir ?? null,
          "currentTaskId" in patch,
          patch.currentTaskId ?? null,
          patch.metadata ?? {},
          patch.restarted ?? false,
          STOPPED,
        ],
      )
      return row ? toAgent(row) : undefined
    },

    /** The agent reported in. False if there is no such agent. */
    async heartbeat(id: string): Promise<boolean> {
      const rows = await db.query("UPDATE agents SET last_heartbeat_at = now() WHERE id = $1 RETURNING id", [id])
      return rows.length > 0
    },

    /**
     * At daemon start: the agents a previous run of this daemon supervised
     * died with it. Marks them stopped; returns them (to respawn if wanted).
     */
    async stopAllOf(daemonId: string): Promise<AgentRecord[]> {
      const rows = await db.query(
        `UPDATE agents SET status = 'stopped', pid = NULL, current_task_id = NULL, stopped_at = now(), updated_at = now()
         WHERE daemon_id = $1 AND NOT (status = ANY($2::text[])) RETURNING *`,
        [daemonId, STOPPED],
      )
      return rows.map(toAgent)
    },

    async remove(id: string): Promise<boolean> {
      return (await db.query("DELETE FROM agents WHERE id = $1 RETURNING id", [id])).length > 0
    },
  }
}

export type AgentRepo = ReturnType<typeof agentRepo>
