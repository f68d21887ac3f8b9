import { ACTIONS, ELIGIBLE_OFFSET, FEATURE_NAMES, ROLE_OFFSET, ROLE_STAT_NAMES, TEXT_DIMS, TEXT_OFFSET } from "../orchestrator/features"

// How each algorithm reads the encoded state (features.ts, version 2).
// - LinUCB, per role: what is known of the task (its content role, keyword
//   scores, size, text vector) plus that role's own availability and record.
// - Q-learning: a discrete key, the content role and the strongest text bucket.
// - DQN and PPO: the whole vector.

const idx = (name: string) => {
  const i = FEATURE_NAMES.indexOf(name)
  if (i < 0) throw new Error(`no feature ${name}`)
  return i
}

const TASK_FEATURES = [
  ...Array.from({ length: 6 }, (_, i) => i), // task.role one-hot (with other)
  ...["frontend", "backend", "security", "qa"].map((r) => idx(`task.score.${r}`)),
  idx("task.coordinate"),
  idx("task.prompt_length"),
  idx("task.depth"),
  idx("task.attempt"),
  idx("task.complexity"),
  ...Array.from({ length: TEXT_DIMS }, (_, i) => TEXT_OFFSET + i),
]
const IDLE = idx("pool.idle.coordinator")
const BUSY = idx("pool.busy.coordinator")
const STATS = ROLE_STAT_NAMES.length

/** Width of LinUCB's per-role input: a bias, the task features, idle, busy and the role's record. */
export const ARM_DIMS = 1 + TASK_FEATURES.length + 2 + STATS

export function armInput(x: ArrayLike<number>, action: number, out: Float64Array): Float64Array {
  let k = 0
  out[k++] = 1
  for (const i of TASK_FEATURES) out[k++] = x[i] ?? 0
  const std = action < ACTIONS - 1
  out[k++] = std ? (x[IDLE + action] ?? 0) : 0
  out[k++] = std ? (x[BUSY + action] ?? 0) : 0
  for (let s = 0; s < STATS; s++) out[k++] = std ? (x[ROLE_OFFSET + action * STATS + s] ?? 0) : 0
  return out
}

/** The discrete state of tabular Q-learning. */
export function tableKey(x: ArrayLike<number>): string {
  let role = -1
  for (let i = 0; i < 6; i++) if ((x[i] ?? 0) > 0.5) role = i
  let best = 0
  let bucket = -1
  for (let i = 0; i < TEXT_DIMS; i++) {
    const v = x[TEXT_OFFSET + i] ?? 0
    if (Math.abs(v) > best) {
      best = Math.abs(v)
      bucket = i * 2 + (v > 0 ? 1 : 0)
    }
  }
  return `${role}:${bucket}`
}

/** The eligibility mask recorded in the state (features eligible.*). */
export function eligibleOf(x: ArrayLike<number>): boolean[] {
  return Array.from({ length: ACTIONS }, (_, a) => (x[ELIGIBLE_OFFSET + a] ?? 0) > 0.5)
}

export const NETWORK_INPUT = FEATURE_NAMES.length

/** Probabilities of a greedy choice among eligible actions (ties share). */
export function greedy(scores: Float64Array, eligible: readonly boolean[]): Float64Array {
  const p = new Float64Array(scores.length)
  let best = -Infinity
  for (let a = 0; a < scores.length; a++) if (eligible[a] && scores[a]! > best) best = scores[a]!
  let n = 0
  for (let a = 0; a < scores.length; a++) if (eligible[a] && scores[a] === best) n++
  for (let a = 0; a < scores.length; a++) if (eligible[a] && scores[a] === best) p[a] = 1 / n
  return p
}

export function argmax(scores: ArrayLike<number>, eligible: readonly boolean[]): number {
  let best = -1
  for (let a = 0; a < scores.length; a++) if (eligible[a] && (best < 0 || scores[a]! > scores[best]!)) best = a
  return best
}

/** Yield to the event loop (long training runs keep the daemon answering). */
export const breathe = () => new Promise<void>((r) => setTimeout(r, 0))
