import type { Redis as RedisClient } from "ioredis"
import type { Logger } from "../log"
import type { PromptContext, PromptStage, StageResult } from "../orchestrator/stages"
import type { Queryable } from "../store/sql"
import type { TaskEvent } from "../store/task-types"
import type { Estimator } from "./estimate"

// Context snapshots: what an agent already did on a task, kept so that a
// task retried on another agent (its agent was lost, timed out, restarted)
// goes on from a compact summary instead of from nothing.
//
// The context of an attempt is what the daemon saw of it: the task's events
// (claimed by which agent, accepted, each progress message the agent
// reported, and how the attempt ended). When a task is claimed again,
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

export type Snapshot = { id: string; agentId: string | null; taskId: string; summary: string; context: string; bytes: number; compressedBytes: number; codec: "zstd" }

function line(e: TaskEvent): string {
  const d = e.data
  const why = (d.error ?? d.reason) as { code?: string; message?: unknown } | undefined
  const what = typeof d.message === "string" && d.message ? d.message : typeof why?.message === "string" ? `${why.code ?? "error"}: ${why.message}` : ""
  const agent = typeof d.agentId === "string" ? ` agent ${d.agentId}` : ""
  return `${e.createdAt.toISOString()} ${e.type}${agent}${what ? `: ${what}` : ""}`
}

/** The whole context of the earlier attempts, and the summary a model is given of it. */
export function attemptsContext(events: readonly TaskEvent[], attempt: number): { context: string; summary: string; lastAgent: string | null } | undefined {
  const earlier: { agent: string | null; events: TaskEvent[] }[] = []
  for (const e of events) {
    if (e.type === "claimed") earlier.push({ agent: typeof e.data.agentId === "string" ? e.data.agentId : null, events: [] })
    earlier.at(-1)?.events.push(e)
  }
  const done = earlier.slice(0, Math.max(0, attempt - 1)).filter((a) => a.events.length > 0)
  if (done.length === 0) return undefined
  const context = done.map((a, i) => [`## attempt ${i + 1}${a.agent ? ` on agent ${a.agent}` : ""}`, ...a.events.map(line)].join("\n")).join("\n\n")
  const parts = done.map((a, i) => {
    const progress = a.events.filter((e) => e.type === "progress" && typeof e.data.message === "string" && e.data.message).map((e) => String(e.data.message))
    const shown = progress.slice(-MAX_PROGRESS_LINES)
    const end = a.events.filter((e) => e.type !== "progress" && e.type !== "claimed" && e.type !== "accepted").at(-1)
    const how = end ? line(end).replace(/^\S+ /, "") : "ended without a report"
    return [
      `Attempt ${i + 1}${a.agent ? ` (agent ${a.agent})` : ""}: ${a.events.some((e) => e.type === "accepted") ? "started the work" : "never started"}; ${how}.`,
      ...(progress.length > shown.length ? [`  (${progress.length - shown.length} earlier progress reports not shown)`] : []),
      ...shown.map((m) => `  - ${m}`),
    ].join("\n")
  })
  const summary = `${RETRY_OPEN}\nThis task was worked on before and did not finish. What was already done, as the agents reported it:\n${parts.join("\n")}\nCheck what of this is already in place before redoing it, then finish the task.\n${RETRY_CLOSE}`
  return { context, summary, lastAgent: done.at(-1)!.agent }
}

export type SnapshotStoreOptions = { db: Queryable; redis?: RedisClient; estimator: () => Promise<Estimator>; log?: Logger }

export class SnapshotStore {
  constructor(private readonly o: SnapshotStoreOptions) {}

  async save(s: { agentId: string | null; taskId: string; summary: string; context: string }): Promise<Snapshot> {
    const raw = Buffer.from(s.context)
    const data = Bun.zstdCompressSync(raw, { level: 3 })
    const est = await this.o.estimator()
    const [row] = await this.o.db.query<{ id: string }>(
      `INSERT INTO context_snapshots (agent_id, task_id, kind, content, token_count, original_tokens, strategy, codec, data, bytes, metadata)
       VALUES ($1, $2, 'summary', $3, $4, $5, 'attempts_summary', 'zstd', $6, $7, $8) RETURNING id`,
      [s.agentId, s.taskId, s.summary, est.count(s.summary), est.count(s.context), data, raw.length, { compressed_bytes: data.length }],
    )
    const snap: Snapshot = { id: row!.id, agentId: s.agentId, taskId: s.taskId, summary: s.summary, context: s.context, bytes: raw.length, compressedBytes: data.length, codec: "zstd" }
    if (this.o.redis && s.agentId) {
      const value = JSON.stringify({ id: snap.id, task_id: s.taskId, summary: s.summary, codec: "zstd", data: Buffer.from(data).toString("base64"), bytes: raw.length })
      await this.o.redis.set(contextKey(s.agentId), value, "EX", CONTEXT_TTL_S).catch((e: unknown) => this.o.log?.warn(`context snapshot of agent ${s.agentId} not written to Redis: ${(e as Error).message}`))
    }
    return snap
  }

  /** An agent's latest context: from Redis when it holds one, else the database. */
  async latest(agentId: string): Promise<(Omit<Snapshot, "compressedBytes"> & { from: "redis" | "database" }) | undefined> {
    const cached = this.o.redis ? await this.o.redis.get(contextKey(agentId)).catch(() => null) : null
    if (cached) {
      const v = JSON.parse(cached) as { id: string; task_id: string; summary: string; data: string; bytes: number }
      const context = Buffer.from(Bun.zstdDecompressSync(Buffer.from(v.data, "base64"))).toString()
      return { id: v.id, agentId, taskId: v.task_id, summary: v.summary, context, bytes: v.bytes, codec: "zstd", from: "redis" }
    }
    const [r] = await this.o.db.query<{ id: string; task_id: string; content: string; data: Uint8Array; bytes: number; codec: string }>(
      `SELECT id, task_id, content, data, bytes, codec FROM context_snapshots WHERE agent_id = $1 AND data IS NOT NULL ORDER BY created_at DESC LIMIT 1`,
      [agentId],
    )
    if (!r) return undefined
    const context = r.codec === "zstd" ? Buffer.from(Bun.zstdDecompressSync(Buffer.from(r.data))).toString() : Buffer.from(r.data).toString()
    return { id: r.id, agentId, taskId: r.task_id, summary: r.content, context, bytes: r.bytes, codec: "zstd", from: "database" }
  }
}

type EventSource = { list(taskId: string, page?: { limit?: number }): Promise<TaskEvent[]> }

/** A retried task's prompt gets the summary of its earlier attempts (off per task with metadata.retry_context = false). */
export class RetryContextStage implements PromptStage {
  readonly name = "retry_context"
  constructor(
    private readonly events: EventSource,
    private readonly snapshots: SnapshotStore,
  ) {}

  async prepare({ task, prompt }: PromptContext): Promise<StageResult> {
    if (task.attempts <= 1 || task.metadata?.retry_context === false) return { prompt }
    const c = attemptsContext(await this.events.list(task.id, { limit: 1000 }), task.attempts)
    if (!c) return { prompt }
    const snap = await this.snapshots.save({ agentId: c.lastAgent, taskId: task.id, summary: c.summary, context: c.context })
    return { prompt: `${c.summary}\n\n${prompt}`, note: { snapshot: snap.id, from_agent: c.lastAgent, bytes: snap.bytes, compressed_bytes: snap.compressedBytes } }
  }
}

/** A Redis client for the snapshots (loaded only when Redis is configured); commands fail fast while it is away. */
export async function openContextRedis(url: string): Promise<RedisClient> {
  const { Redis } = await import("ioredis")
  return new Redis(url, { lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: 2000, retryStrategy: (times) => Math.min(100 * times, 1000) })
}
