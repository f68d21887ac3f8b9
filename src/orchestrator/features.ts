import { COORDINATOR, SPECIALIST_ROLES, type RoleScores } from "./classify"

// The state a routing decision is made in, as a fixed-length vector of
// numbers: what the learned router (src/rl: LinUCB, Q-learning, DQN, PPO)
// reads, and what every decision records in rl_experiences.state. The layout
// is versioned (STATE_VERSION); change it only together with the version.
// Version 2 keeps version 1's 28 features in place and appends the task's
// text vector, a complexity estimate, each role's recent record and which
// roles could take the task. README.md in this folder lists every feature.

export const STATE_VERSION = 2

/** The action space: the role a task is given to. Custom roles share the last index. */
export const ACTION_ROLES = [COORDINATOR, ...SPECIALIST_ROLES] as const
export const OTHER_ROLE_INDEX = ACTION_ROLES.length
export const ACTIONS = OTHER_ROLE_INDEX + 1
/** Dimensions of the task's text vector (hashed n-grams, or a projection of the embedder's vector). */
export const TEXT_DIMS = 32

export function actionIndex(role: string | null): number {
  const i = (ACTION_ROLES as readonly string[]).indexOf(role ?? "")
  return i === -1 ? OTHER_ROLE_INDEX : i
}

export const ROLE_STAT_NAMES = ["success", "duration", "tokens", "seen", "can_spawn"] as const

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
  // version 2
  ...Array.from({ length: TEXT_DIMS }, (_, i) => `task.text.${i}`),
  "task.complexity",
  ...ACTION_ROLES.flatMap((r) => ROLE_STAT_NAMES.map((s) => `role.${r}.${s}`)),
  ...ACTION_ROLES.map((r) => `eligible.${r}`),
  "eligible.other",
]

export const FEATURES = FEATURE_NAMES.length
export const TEXT_OFFSET = FEATURE_NAMES.indexOf("task.text.0")
export const ROLE_OFFSET = FEATURE_NAMES.indexOf(`role.${COORDINATOR}.success`)
export const ELIGIBLE_OFFSET = FEATURE_NAMES.indexOf(`eligible.${COORDINATOR}`)

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
  /** The text vector (TEXT_DIMS numbers) and the space it lives in (`hash:fh1`, or an embedder's model). */
  text?: number[]
  textSpace?: string
  /** 0..1: a rough size of the job (complexity.ts). */
  complexity?: number
}

/** A role's recent record: decayed counts of completed attempts, mean duration and budget tokens. */
export type RoleRecord = { n: number; success: number; durationMs: number; tokens: number }

export type PoolView = {
  idle: Record<string, number>
  busy: Record<string, number>
  agents: number
  maxAgents: number
  canSpawn: boolean
  /** Pending tasks the dispatcher saw in this round (capped by its batch size). */
  pending: number
  maxDepth: number
  /** Per role: a new agent of it may be started now (absent: unknown, counted as no). */
  spawnable?: Record<string, boolean>
  /** Per role: its recent record (role-stats.ts). */
  roles?: Record<string, RoleRecord>
}

export type EncodedState = { v: number; features: number[]; task: TaskView; pool: Omit<PoolView, "maxDepth"> }

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0)
const round = (x: number) => Math.round(x * 1e4) / 1e4

/** The actions a task could take now: roles with an idle or busy agent, or room to start one; `other` with an idle custom-role agent. */
export function eligibleActions(pool: Pick<PoolView, "idle" | "busy" | "spawnable">): boolean[] {
  const out = ACTION_ROLES.map((r) => (pool.idle[r] ?? 0) > 0 || (pool.busy[r] ?? 0) > 0 || pool.spawnable?.[r] === true)
  const std = new Set<string>(ACTION_ROLES)
  out.push(Object.entries(pool.idle).some(([r, n]) => !std.has(r) && n > 0))
  return out
}

function roleFeatures(rec: RoleRecord | undefined, spawnable: boolean): number[] {
  const n = rec?.n ?? 0
  return [
    (( rec?.success ?? 0) + 1) / (n + 2), // smoothed success rate: 0.5 with no record
    n > 0 ? clamp01(Math.log10(1 + (rec!.durationMs ?? 0) / 1000) / 4) : 0,
    n > 0 ? clamp01(Math.log10(1 + (rec!.tokens ?? 0)) / 6) : 0,
    clamp01(n / 20),
    spawnable ? 1 : 0,
  ]
}

export function encodeState(task: TaskView, pool: PoolView): EncodedState {
  const roleIndex = actionIndex(task.role)
  const scale = Math.max(1, pool.maxAgents)
  const text = task.text ?? []
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
    ...Array.from({ length: TEXT_DIMS }, (_, i) => Math.max(-1, Math.min(1, text[i] ?? 0))),
    clamp01(task.complexity ?? 0),
    ...ACTION_ROLES.flatMap((r) => roleFeatures(pool.roles?.[r], pool.spawnable?.[r] === true)),
    ...eligibleActions(pool).map((e) => (e ? 1 : 0)),
  ]
  const { maxDepth: _, ...poolRaw } = pool
  return { v: STATE_VERSION, features: f.map(round), task, pool: poolRaw }
}
