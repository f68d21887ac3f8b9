import type { Redis as RedisClient } from "ioredis"
import type { Logger } from "../log"
import type { PromptContext, PromptStage, StageResult } from "../orchestrator/stages"
import type { Queryable } from "../store/sql"
import type { TaskEvent } from "../store/task-types"
import type { Estimator } from "./estimate"
import { activityContext, activitySummary, readTranscripts, transcriptActivity } from "./transcript-context"

// Context snapshots: what an agent already did on a task, kept so that a
// task retried on another agent (its agent was lost, timed out, restarted)
// goes on from a compact summary instead of from nothing.
//
// The context of an attempt is what the agent really did, read from Claude
// Code's session transcript in the agent's home (transcript-context.ts: the
// tool calls, files touched, the last assistant text, the turns compressed
// with summarize and history within a budget). Where there is no transcript
// (an ACP agent, a home that is gone) it is what the daemon saw: the task's
// events (claimed by which agent, accepted, each progress message the agent
// reported, and how the attempt ended); the snapshot says which (`source`
// in its metadata, strategy transcript_summary or attempts_summary). When a task is claimed again,
// RetryContextStage reads the events of the earlier attempts, stores them
// as a snapshot (context_snapshots: `content` the compact summary, `data` the
// whole context compressed with Bun's zstd, `bytes` its size before) and,
// with Redis configured, under cca:agent:{id}:context of the agent that had
// it (TTL 1 h), then puts the summary in front of the prompt. It runs before
// the token budget stage, which counts it.

export const CONTEXT_TTL_S = 3600
export const RETRY_OPEN = "<cca-previous-attempts>"
export const RETRY_CLOSE = "</cca-previous-attempts>"
const MAX_PROGRESS_LINES = 12

export const contextKey = (agentId: string) => `cca:agent:${agentId}:context`

export type Snapshot = { id: string; agentId: string | null; taskId: string; summary: string; context: string; bytes: number; compressedBytes: number; codec: "zstd"; source: SnapshotSource }

function line(e: TaskEvent): string {
  const d = e.data
  const why = (d.error ?? d.reason) as { code?: string; message?: unknown } | undefined
  const what = typeof d.message === "string" && d.message ? d.message : typeof why?.message === "string" ? `${why.code ?? "error"}: ${why.message}` : ""
  const agent = typeof d.agentId === "string" ? ` agent ${d.agentId}` : ""
  return `${e.createdAt.toISOString()} ${e.type}${agent}${what ? `: ${what}` : ""}`
}

type Attempt = { agent: string | null; events: TaskEvent[] }
/** What an attempt's transcript gave: its whole context and the lines of the summary (see transcript-context.ts). */
export type TranscriptPart = { context: string; summary: string; session: string[]; strategies: string[] }
export type SnapshotSource = "transcript" | "events"

/** The earlier attempts of a task (the events from each claim to the next). */
export function earlierAttempts(events: readonly TaskEvent[], attempt: number): Attempt[] {
  const earlier: Attempt[] = []
  for (const e of events) {
    if (e.type === "claimed") earlier.push({ agent: typeof e.data.agentId === "string" ? e.data.agentId : null, events: [] })
    earlier.at(-1)?.events.push(e)
  }
  return earlier.slice(0, Math.max(0, attempt - 1)).filter((a) => a.events.length > 0)
}

/**
 * The whole context of the earlier attempts, and the summary a model is given
 * of it: from an attempt's transcript when `transcripts` has one for it, else
 * from its events. `sources` says which, per attempt.
 */
export function attemptsContext(
  events: readonly TaskEvent[],
  attempt: number,
  transcripts: readonly (TranscriptPart | undefined)[] = [],
): { context: string; summary: string; lastAgent: string | null; sources: SnapshotSource[] } | undefined {
  const done = earlierAttempts(events, attempt)
  if (done.length === 0) return undefined
  const sources = done.map((_, i): SnapshotSource => (transcripts[i] ? "transcript" : "events"))
  const context = done
    .map((a, i) => [`## attempt ${i + 1}${a.agent ? ` on agent ${a.agent}` : ""} (from its ${sources[i]})`, ...a.events.map(line), ...(transcripts[i] ? ["", transcripts[i]!.context] : [])].join("\n"))
    .join("\n\n")
  const parts = done.map((a, i) => {
    const end = a.events.filter((e) => e.type !== "progress" && e.type !== "claimed" && e.type !== "accepted").at(-1)
    const how = end ? line(end).replace(/^\S+ /, "") : "ended without a report"
    const first = `Attempt ${i + 1}${a.agent ? ` (agent ${a.agent})` : ""}: ${a.events.some((e) => e.type === "accepted") ? "started the work" : "never started"}; ${how}.`
    const t = transcripts[i]
    if (t) return [first, t.summary].join("\n")
    const progress = a.events.filter((e) => e.type === "progress" && typeof e.data.message === "string" && e.data.message).map((e) => String(e.data.message))
    const shown = progress.slice(-MAX_PROGRESS_LINES)
    return [first, ...(progress.length > shown.length ? [`  (${progress.length - shown.length} earlier progress reports not shown)`] : []), ...shown.map((m) => `  - ${m}`)].join("\n")
  })
  const how = sources.includes("transcript") ? "from the agents' session transcripts (and their reports where there was none)" : "as the agents reported it"
  const summary = `${RETRY_OPEN}\nThis task was worked on before and did not finish. What was already done, ${how}:\n${parts.join("\n")}\nCheck what of this is already in place before redoing it, then finish the task.\n${RETRY_CLOSE}`
  return { context, summary, lastAgent: done.at(-1)!.agent, sources }
}

export type SnapshotStoreOptions = { db: Queryable; redis?: RedisClient; estimator: () => Promise<Estimator>; log?: Logger }

export class SnapshotStore {
  constructor(private readonly o: SnapshotStoreOptions) {}

  async save(s: { agentId: string | null; taskId: string; summary: string; context: string; source?: SnapshotSource; metadata?: Record<string, unknown> }): Promise<Snapshot> {
    const source = s.source ?? "events"
    const raw = Buffer.from(s.context)
    const data = Bun.zstdCompressSync(raw, { level: 3 })
    const est = await this.o.estimator()
    const [row] = await this.o.db.query<{ id: string }>(
      `INSERT INTO context_snapshots (agent_id, task_id, kind, content, token_count, original_tokens, strategy, codec, data, bytes, metadata)
       VALUES ($1, $2, 'summary', $3, $4, $5, $6, 'zstd', $7, $8, $9) RETURNING id`,
      [s.agentId, s.taskId, s.summary, est.count(s.summary), est.count(s.context), source === "transcript" ? "transcript_summary" : "attempts_summary", data, raw.length, { ...s.metadata, compressed_bytes: data.length, source }],
    )
    const snap: Snapshot = { id: row!.id, agentId: s.agentId, taskId: s.taskId, summary: s.summary, context: s.context, bytes: raw.length, compressedBytes: data.length, codec: "zstd", source }
    if (this.o.redis && s.agentId) {
      const value = JSON.stringify({ id: snap.id, task_id: s.taskId, summary: s.summary, codec: "zstd", data: Buffer.from(data).toString("base64"), bytes: raw.length, source })
      await this.o.redis.set(contextKey(s.agentId), value, "EX", CONTEXT_TTL_S).catch((e: unknown) => this.o.log?.warn(`context snapshot of agent ${s.agentId} not written to Redis: ${(e as Error).message}`))
    }
    return snap
  }

  /** An agent's latest context: from Redis when it holds one, else the database. */
  async latest(agentId: string): Promise<StoredSnapshot | undefined> {
    const cached = this.o.redis ? await this.o.redis.get(contextKey(agentId)).catch(() => null) : null
    if (cached) {
      const v = JSON.parse(cached) as { id: string; task_id: string; summary: string; data: string; bytes: number; source?: SnapshotSource }
      const context = Buffer.from(Bun.zstdDecompressSync(Buffer.from(v.data, "base64"))).toString()
      return { id: v.id, agentId, taskId: v.task_id, summary: v.summary, context, bytes: v.bytes, codec: "zstd", source: v.source ?? "events", from: "redis" }
    }
    const [r] = await this.o.db.query<SnapshotRow>(`SELECT ${COLUMNS} FROM context_snapshots WHERE agent_id = $1 AND data IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT 1`, [agentId])
    return r ? fromRow(r) : undefined
  }

  /** A task's snapshots, newest first (from the database). */
  async forTask(taskId: string, limit = 20): Promise<StoredSnapshot[]> {
    const rows = await this.o.db.query<SnapshotRow>(`SELECT ${COLUMNS} FROM context_snapshots WHERE task_id = $1 AND data IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT $2`, [taskId, limit])
    return rows.map(fromRow)
  }
}

export type StoredSnapshot = Omit<Snapshot, "compressedBytes"> & { from: "redis" | "database"; createdAt?: Date; tokens?: number; originalTokens?: number }
type SnapshotRow = { id: string; agent_id: string | null; task_id: string; content: string; data: Uint8Array; bytes: number; codec: string; metadata: Record<string, unknown> | null; created_at: Date | string; token_count: number | null; original_tokens: number | null }
const COLUMNS = "id, agent_id, task_id, content, data, bytes, codec, metadata, created_at, token_count, original_tokens"
function fromRow(r: SnapshotRow): StoredSnapshot {
  const context = r.codec === "zstd" ? Buffer.from(Bun.zstdDecompressSync(Buffer.from(r.data))).toString() : Buffer.from(r.data).toString()
  const source: SnapshotSource = r.metadata?.source === "transcript" ? "transcript" : "events"
  return { id: r.id, agentId: r.agent_id, taskId: r.task_id, summary: r.content, context, bytes: r.bytes, codec: "zstd", source, from: "database", createdAt: new Date(r.created_at), tokens: r.token_count ?? undefined, originalTokens: r.original_tokens ?? undefined }
}

type EventSource = { list(taskId: string, page?: { limit?: number }): Promise<TaskEvent[]> }

export type RetryContextOptions = {
  /** An agent's state directory (its Claude Code home is <stateDir>/claude): where its transcripts are read from. */
  stateDirOf?: (agentId: string) => string | undefined
  estimator?: () => Promise<Estimator>
  /** Tokens the summary of one attempt's transcript may take (default 1,500). */
  attemptBudgetTokens?: number
}

/**
 * A retried task's prompt gets the summary of its earlier attempts (off per
 * task with metadata.retry_context = false): from each attempt's Claude Code
 * transcript when the agent's home has one, else from the task's events.
 */
export class RetryContextStage implements PromptStage {
  readonly name = "retry_context"
  constructor(
    private readonly events: EventSource,
    private readonly snapshots: SnapshotStore,
    private readonly o: RetryContextOptions = {},
  ) {}

  private async transcripts(done: Attempt[]): Promise<(TranscriptPart | undefined)[]> {
    const { stateDirOf, estimator } = this.o
    if (!stateDirOf || !estimator) return []
    const est = await estimator()
    return Promise.all(
      done.map(async (a) => {
        const dir = a.agent ? stateDirOf(a.agent) : undefined
        const since = a.events[0]?.createdAt.getTime()
        if (!dir || since === undefined) return undefined
        const last = a.events.at(-1)!.createdAt.getTime()
        const activity = transcriptActivity(await readTranscripts(dir, since), since, last + 1000)
        if (activity.turns.length === 0) return undefined
        const s = await activitySummary(activity, est, this.o.attemptBudgetTokens ?? 1500)
        return { context: activityContext(activity), summary: s.text, session: activity.sessions, strategies: s.strategies }
      }),
    )
  }

  async prepare({ task, prompt }: PromptContext): Promise<StageResult> {
    if (task.attempts <= 1 || task.metadata?.retry_context === false) return { prompt }
    const events = await this.events.list(task.id, { limit: 1000 })
    const done = earlierAttempts(events, task.attempts)
    if (done.length === 0) return { prompt }
    const parts = await this.transcripts(done)
    const c = attemptsContext(events, task.attempts, parts)!
    const source: SnapshotSource = c.sources.includes("transcript") ? "transcript" : "events"
    const sessions = parts.flatMap((p) => p?.session ?? [])
    const snap = await this.snapshots.save({ agentId: c.lastAgent, taskId: task.id, summary: c.summary, context: c.context, source, metadata: { sources: c.sources, sessions, strategies: [...new Set(parts.flatMap((p) => p?.strategies ?? []))] } })
    return { prompt: `${c.summary}\n\n${prompt}`, note: { snapshot: snap.id, from_agent: c.lastAgent, source, bytes: snap.bytes, compressed_bytes: snap.compressedBytes } }
  }
}

/** A Redis client for the snapshots (loaded only when Redis is configured); commands fail fast while it is away. */
export async function openContextRedis(url: string): Promise<RedisClient> {
  const { Redis } = await import("ioredis")
  return new Redis(url, { lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: 2000, retryStrategy: (times) => Math.min(100 * times, 1000) })
}
