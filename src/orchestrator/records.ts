import type { Logger } from "../log"
import type { Task, Usage } from "../store/task-types"
import { roleScores, type RoleScores } from "./classify"
import type { Worker } from "./executor"
import { experienceRepo, type Decision, type ExperienceRepo } from "./experiences"
import { ACTION_ROLES, actionIndex, encodeState, type EncodedState, type PoolView, type TaskView } from "./features"
import { RoleStats } from "./role-stats"
import { complexity, LEXICAL_SPACE, lexicalVector, taskText } from "./task-text"
import { BASELINE_WINDOW, baselineOf, budgetTokens, reward, type AttemptEnd, type Baseline } from "./reward"
import type { Queryable } from "../store/sql"

// Routing records: what the dispatcher saw when it gave a task to an agent
// (the encoded state), what it did (the role, the agent), and, once that
// attempt ended, the reward and the state after, written as one row. Writing
// a record never blocks or fails a task: errors are logged and the task goes
// on. A decision whose attempt never ends here (this daemon dies) is not
// recorded: there is no outcome to learn from.

export type RecordsOptions = {
  db: Queryable
  log: Logger
  /** Budget tokens (input + output + cache creation) under which a success earns +0.2. */
  tokenBudget: number
  /** Baseline duration until a role has enough completed attempts for a median. */
  baselineMs: number
  maxDepth: number
  maxAgents: number
}

export type AttemptResult = { end: AttemptEnd; code?: string; usage?: Partial<Usage>; costUsd?: number; durationMs?: number | null }

const ZERO: Usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 }

/** The routing facts persisted with a task at creation (metadata.routing); `text` when the router prepared one. */
export type RoutingMeta = { role: string | null; reason: string; scores: RoleScores; text?: { space: string; v: number[] } }

export function routingOf(task: Task): RoutingMeta {
  const r = task.metadata.routing as Partial<RoutingMeta> | undefined
  const text = r?.text && typeof r.text.space === "string" && Array.isArray(r.text.v) ? r.text : undefined
  return {
    role: r?.role ?? task.role,
    reason: r?.reason ?? (task.role ? "explicit" : "none"),
    scores: r?.scores ?? roleScores(taskText(task)),
    ...(text ? { text } : {}),
  }
}

export class RoutingRecords {
  readonly repo: ExperienceRepo
  /**
   * Recent completed durations per role, newest first: read from the table
   * once per role, then kept up to date here, so settling a record costs one
   * statement. (Completions recorded by other daemons join after a restart.)
   */
  private readonly durations = new Map<string, Promise<number[]>>()
  private readonly pending = new Set<Promise<unknown>>()
  /** Each role's recent record (a routing feature), fed by every settled decision. */
  readonly roles = new RoleStats()

  constructor(private readonly o: RecordsOptions) {
    this.repo = experienceRepo(o.db)
  }

  taskView(task: Task, attempt = task.attempts): TaskView {
    const routing = routingOf(task)
    const text = taskText(task)
    return {
      role: task.role,
      scores: routing.scores,
      coordinate: task.coordinate,
      promptChars: (task.prompt ?? task.description).length,
      depth: task.depth,
      priority: task.priority,
      attempt,
      maxAttempts: task.maxAttempts,
      // The prepared vector (a semantic embedder's) when there is one, else hashed words: microseconds.
      text: routing.text?.v ?? lexicalVector(text),
      textSpace: routing.text?.space ?? LEXICAL_SPACE,
      complexity: complexity(text),
    }
  }

  poolView(workers: readonly Worker[], busy: ReadonlySet<string>, canSpawn: boolean, pending: number, spawnable?: (role: string) => boolean): PoolView {
    const idle: Record<string, number> = {}
    const taken: Record<string, number> = {}
    let agents = 0
    for (const w of workers) {
      if (!w.live) continue
      agents++
      const bucket = w.idle && !busy.has(w.id) ? idle : taken
      bucket[w.role] = (bucket[w.role] ?? 0) + 1
    }
    const can = spawnable ? Object.fromEntries(ACTION_ROLES.map((r) => [r, spawnable(r)])) : undefined
    return { idle, busy: taken, agents, maxAgents: this.o.maxAgents, canSpawn, pending, maxDepth: this.o.maxDepth, spawnable: can, roles: this.roles.view() }
  }

  state(task: Task, pool: PoolView, attempt = task.attempts): EncodedState {
    return encodeState(this.taskView(task, attempt), pool)
  }

  /** A decision as it will be recorded (nothing is written until its attempt ends). */
  decision(task: Task, state: EncodedState, agent: Worker, algorithm: string, extra: { logProb?: number; value?: number; spawned?: boolean; info?: Record<string, unknown> } = {}): Decision {
    return {
      taskId: task.id,
      algorithm,
      state,
      action: agent.role,
      actionIndex: actionIndex(agent.role),
      logProb: extra.logProb,
      value: extra.value,
      metadata: { agentId: agent.id, executor: agent.executor, attempt: task.attempts, routing: routingOf(task).reason, spawned: extra.spawned ?? false, ...extra.info },
    }
  }

  /** The role's baseline before this attempt; the attempt's duration then joins the role's history. */
  private async baseline(role: string, durationMs: number | null | undefined): Promise<Baseline> {
    let recent = this.durations.get(role)
    if (!recent) {
      recent = this.repo.recentDurations(role)
      this.durations.set(role, recent)
      recent.catch(() => this.durations.delete(role))
    }
    const list = await recent
    const b = baselineOf(list, this.o.baselineMs)
    if (typeof durationMs === "number" && Number.isFinite(durationMs)) {
      list.unshift(durationMs)
      if (list.length > BASELINE_WINDOW) list.length = BASELINE_WINDOW
    }
    return b
  }

  /** Record a decision with its reward, in the background; `observe` hears the reward once it is written. */
  settle(d: Decision, r: AttemptResult, next: EncodedState | null, observe?: (reward: number, outcome: { completed: boolean; durationMs: number | null; tokens: number }) => void): void {
    const outcome = { completed: r.end === "completed", durationMs: r.durationMs ?? null, tokens: budgetTokens({ ...ZERO, ...r.usage }) }
    if (r.end !== "cancelled") this.roles.add(d.action, outcome)
    const write = this.write(d, r, next).then((reward) => reward !== undefined && observe?.(reward, outcome))
    this.pending.add(write)
    void write.finally(() => this.pending.delete(write))
  }

  /** Fill the roles' records from the newest recorded decisions (at start: the features then carry on where the last run stopped). */
  async loadHistory(limit = 500): Promise<void> {
    try {
      const rows = await this.o.db.query<{ action: string; status: string; ms: number | null; tokens: number | null }>(
        `SELECT action, outcome->>'status' AS status, (outcome->>'durationMs')::float8 AS ms, (outcome->>'budgetTokens')::float8 AS tokens
         FROM rl_experiences WHERE reward IS NOT NULL AND outcome->>'status' <> 'cancelled' ORDER BY id DESC LIMIT $1`,
        [limit],
      )
      for (const r of rows.reverse()) this.roles.add(r.action, { completed: r.status === "completed", durationMs: r.ms === null ? null : Number(r.ms), tokens: Number(r.tokens ?? 0) })
    } catch (e) {
      this.o.log.warn(`routing history not read: ${(e as Error).message}`)
    }
  }

  /** Resolves once every record being written is in the table (before the store closes; in tests). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending])
  }

  private async write(d: Decision, r: AttemptResult, next: EncodedState | null): Promise<number | undefined> {
    try {
      const usage = { ...ZERO, ...r.usage }
      const baseline = r.end === "completed" ? await this.baseline(d.action, r.durationMs) : { ms: this.o.baselineMs, source: "default" as const, samples: 0 }
      const score = reward({ end: r.end, usage, durationMs: r.durationMs ?? null, tokenBudget: this.o.tokenBudget, baseline })
      await this.repo.record(d, {
        reward: score.reward,
        nextState: next,
        done: r.end !== "requeued",
        outcome: {
          status: r.end,
          code: r.code ?? null,
          usage,
          budgetTokens: budgetTokens(usage),
          tokenBudget: this.o.tokenBudget,
          underBudget: score.underBudget,
          costUsd: r.costUsd ?? 0,
          durationMs: r.durationMs ?? null,
          baselineMs: baseline.ms,
          baselineSource: baseline.source,
          faster: score.faster,
        },
      })
      return score.reward
    } catch (e) {
      this.o.log.warn(`routing record of task ${d.taskId} not written: ${(e as Error).message}`)
      return undefined
    }
  }
}
