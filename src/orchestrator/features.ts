import { COORDINATOR, SPECIALIST_ROLES, type RoleScores } from "./classify"

// The state a routing decision is made in, as a fixed-length vector of
// numbers in [0, 1]: what the learned router (Q-learning, DQN, PPO) will read,
// and what every decision records in rl_experiences.state. The layout is
// versioned (STATE_VERSION); change it only together with the version.
// README.md in this folder lists every feature.

export const STATE_VERSION = 1

/** The action space: the role a task is given to. Custom roles share the last index. */
export const ACTION_ROLES = [COORDINATOR, ...SPECIALIST_ROLES] as const
export const OTHER_ROLE_INDEX = ACTION_ROLES.length

export function actionIndex(role: string | null): number {
  const i = (ACTION_ROLES as readonly string[]).indexOf(role ?? "")
  return i === -1 ? OTHER_ROLE_INDEX : i
}

export const FEATURE_NAMES: readonly string[] = [
  ...ACTION_ROLES.map((r) => `task.role.${r}`),
  "task.role.other",
  ...SPECIALIST_ROLES.map((r) => `task.score.${r}`),
  "task.coordinate",
  "task.prompt_length",
  "task.depth",
  "task.priority",
  "task.attempt",
  ...ACTION_ROLES.map((r) => `pool.idle.${r}`),
  ...ACTION_ROLES.map((r) => `pool.busy.${r}`),
  "pool.agents",
  "pool.can_spawn",
  "queue.pending",
]

/** What the features are made from (recorded next to them, so a later version can re-encode old rows). */
export type TaskView = {
  role: string | null
  scores: RoleScores
  coordinate: boolean
  promptChars: number
  depth: number
  priority: number
  /** Attempts made before this decision. */
  attempt: number
  maxAttempts: number
}

export type PoolView = {
  idle: Record<string, number>
  busy: Record<string, number>
  agents: number
  maxAgents: number
  canSpawn: boolean
  /** Pending tasks the dispatcher saw in this round (capped by its batch size). */
  pending: number
  maxDepth: number
}

export type EncodedState = { v: number; features: number[]; task: TaskView; pool: Omit<PoolView, "maxDepth"> }

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0)
const round = (x: number) => Math.round(x * 1e4) / 1e4

export function encodeState(task: TaskView, pool: PoolView): EncodedState {
  const roleIndex = actionIndex(task.role)
  const scale = Math.max(1, pool.maxAgents)
  const f: number[] = [
    ...[...ACTION_ROLES, "other"].map((_, i) => (task.role !== null && i === roleIndex ? 1 : 0)),
    ...SPECIALIST_ROLES.map((r) => clamp01(task.scores[r] / 5)),
    task.coordinate ? 1 : 0,
    clamp01(Math.log10(1 + task.promptChars) / 5),
    clamp01(task.depth / Math.max(1, pool.maxDepth)),
    clamp01((Math.max(-100, Math.min(100, task.priority)) + 100) / 200),
    clamp01(task.attempt / Math.max(1, task.maxAttempts)),
    ...ACTION_ROLES.map((r) => clamp01((pool.idle[r] ?? 0) / scale)),
    ...ACTION_ROLES.map((r) => clamp01((pool.busy[r] ?? 0) / scale)),
    clamp01(pool.agents / scale),
    pool.canSpawn ? 1 : 0,
    clamp01(Math.log10(1 + pool.pending) / 3),
  ]
  const { maxDepth: _, ...poolRaw } = pool
  return { v: STATE_VERSION, features: f.map(round), task, pool: poolRaw }
}
