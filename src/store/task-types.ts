// The shapes the task repositories return, and the mapping from rows. Both
// engines return the same row shapes except for bigint (a number from PGlite,
// a string from postgres.js): every number goes through Number().

export const TASK_STATUSES = ["pending", "running", "completed", "failed", "cancelled"] as const
export type TaskStatus = (typeof TASK_STATUSES)[number]
export const FINAL_STATUSES: readonly TaskStatus[] = ["completed", "failed", "cancelled"]

export type TaskError = { code: string; message: string; hint?: string; details?: unknown }

export type Usage = {
  inputTokens: number
  outputTokens: number
  cacheReadTokens: number
  cacheCreationTokens: number
}

export type Task = {
  id: string
  parentId: string | null
  rootId: string
  depth: number
  role: string | null
  description: string
  prompt: string | null
  priority: number
  coordinate: boolean
  source: string | null
  status: TaskStatus
  progress: number | null
  progressMessage: string | null
  result: string | null
  error: TaskError | null
  /** Summed over all attempts. */
  usage: Usage
  /** Summed over all attempts. */
  costUsd: number
  durationMs: number | null
  ownerDaemon: string | null
  agentId: string | null
  sessionId: string | null
  /** Claims so far; the current attempt's number while running. */
  attempts: number
  maxAttempts: number
  timeoutMs: number | null
  metadata: Record<string, unknown>
  createdAt: Date
  updatedAt: Date
  availableAt: Date
  startedAt: Date | null
  finishedAt: Date | null
}

export type TaskEvent = {
  /** Global, increasing: the SSE event id (Last-Event-ID). */
  id: number
  taskId: string
  type: string
  data: Record<string, unknown>
  createdAt: Date
}

/** A task after a state change, and the event recorded with it in the same statement. */
export type Transition = { task: Task; event: TaskEvent }

type Row = Record<string, unknown>

const num = (v: unknown): number => Number(v)
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))
const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)))
const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v))

export function toTask(r: Row): Task {
  return {
    id: String(r.id),
    parentId: strOrNull(r.parent_id),
    rootId: String(r.root_id),
    depth: num(r.depth),
    role: strOrNull(r.role),
    description: String(r.description),
    prompt: strOrNull(r.prompt),
    priority: num(r.priority),
    coordinate: Boolean(r.coordinate),
    source: strOrNull(r.source),
    status: r.status as TaskStatus,
    progress: numOrNull(r.progress),
    progressMessage: strOrNull(r.progress_message),
    result: strOrNull(r.result),
    error: (r.error as TaskError | null) ?? null,
    usage: {
      inputTokens: num(r.input_tokens),
      outputTokens: num(r.output_tokens),
      cacheReadTokens: num(r.cache_read_tokens),
      cacheCreationTokens: num(r.cache_creation_tokens),
    },
    costUsd: num(r.cost_usd),
    durationMs: numOrNull(r.duration_ms),
    ownerDaemon: strOrNull(r.owner_daemon),
    agentId: strOrNull(r.agent_id),
    sessionId: strOrNull(r.session_id),
    attempts: num(r.attempts),
    maxAttempts: num(r.max_attempts),
    timeoutMs: numOrNull(r.timeout_ms),
    metadata: (r.metadata as Record<string, unknown>) ?? {},
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    availableAt: date(r.available_at),
    startedAt: dateOrNull(r.started_at),
    finishedAt: dateOrNull(r.finished_at),
  }
}

export function toEvent(r: Row, prefix = ""): TaskEvent {
  return {
    id: num(r[`${prefix}id`]),
    taskId: String(r[`${prefix}task_id`]),
    type: String(r[`${prefix}type`]),
    data: (r[`${prefix}data`] as Record<string, unknown>) ?? {},
    createdAt: date(r[`${prefix}created_at`]),
  }
}

export const isUuid = (s: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s)
