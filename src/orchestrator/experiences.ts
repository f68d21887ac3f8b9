import type { Queryable } from "../store/sql"
import type { EncodedState } from "./features"
import { BASELINE_WINDOW } from "./reward"

// Routing records in rl_experiences (migrations/0001_core.sql): one row per
// decision (a task given to an agent), written once that attempt has ended,
// with its reward, next state and outcome: one statement per decision, off
// the path from submit to agent. The learned router (src/rl, later) trains on
// these rows.

export type Decision = {
  taskId: string
  algorithm: string
  state: EncodedState
  /** The role the task was given to. */
  action: string
  actionIndex: number
  logProb?: number | null
  value?: number | null
  metadata: Record<string, unknown>
}

export type Settlement = {
  reward: number
  nextState: EncodedState | null
  /** false when the task goes on (requeued for another attempt). */
  done: boolean
  outcome: Record<string, unknown>
}

export type Experience = {
  id: number
  taskId: string | null
  algorithm: string
  state: EncodedState
  action: string
  actionIndex: number | null
  reward: number | null
  nextState: EncodedState | null
  done: boolean
  outcome: Record<string, unknown> | null
  metadata: Record<string, unknown>
  createdAt: Date
  rewardedAt: Date | null
}

type Row = Record<string, unknown>

function toExperience(r: Row): Experience {
  return {
    id: Number(r.id),
    taskId: r.task_id === null ? null : String(r.task_id),
    algorithm: String(r.algorithm),
    state: r.state as EncodedState,
    action: String(r.action),
    actionIndex: r.action_index === null ? null : Number(r.action_index),
    reward: r.reward === null ? null : Number(r.reward),
    nextState: (r.next_state as EncodedState | null) ?? null,
    done: Boolean(r.done),
    outcome: (r.outcome as Record<string, unknown> | null) ?? null,
    metadata: (r.metadata as Record<string, unknown>) ?? {},
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(String(r.created_at)),
    rewardedAt: r.rewarded_at === null ? null : r.rewarded_at instanceof Date ? r.rewarded_at : new Date(String(r.rewarded_at)),
  }
}

export function experienceRepo(db: Queryable) {
  return {
    /** Write a settled decision: what was decided, and how it turned out. Resolves with the row id. */
    async record(d: Decision, s: Settlement): Promise<number> {
      const [row] = await db.query<{ id: number }>(
        `INSERT INTO rl_experiences (task_id, algorithm, state, action, action_index, log_prob, value, reward, next_state, done, outcome, metadata, rewarded_at)
         VALUES ($1::uuid, $2, $3::jsonb, $4, $5, $6, $7, $8, $9::jsonb, $10, $11::jsonb, $12::jsonb, now()) RETURNING id`,
        [d.taskId, d.algorithm, d.state, d.action, d.actionIndex, d.logProb ?? null, d.value ?? null, s.reward, s.nextState, s.done, s.outcome, d.metadata],
      )
      return Number(row!.id)
    },

    /** Durations of the role's last completed attempts, newest first (at most BASELINE_WINDOW). */
    async recentDurations(role: string): Promise<number[]> {
      const rows = await db.query<{ ms: number }>(
        `SELECT (outcome->>'durationMs')::float8 AS ms FROM rl_experiences
         WHERE action = $1 AND outcome->>'status' = 'completed' AND outcome->>'durationMs' IS NOT NULL
         ORDER BY id DESC LIMIT ${BASELINE_WINDOW}`,
        [role],
      )
      return rows.map((r) => Number(r.ms)).filter(Number.isFinite)
    },

    async forTask(taskId: string): Promise<Experience[]> {
      return (await db.query("SELECT * FROM rl_experiences WHERE task_id = $1::uuid ORDER BY id", [taskId])).map(toExperience)
    },

    async recent(limit = 50): Promise<Experience[]> {
      return (await db.query("SELECT * FROM rl_experiences ORDER BY id DESC LIMIT $1", [Math.min(1000, Math.max(1, limit))])).map(toExperience)
    },
  }
}

export type ExperienceRepo = ReturnType<typeof experienceRepo>
