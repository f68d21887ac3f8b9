import type { Usage } from "../store/task-types"

// The reward of one routing decision, once its attempt is over:
//   completed                     +1.0
//     and budget tokens <= budget  +0.2
//     and duration < baseline      +0.1
//   failed (agent error, timeout,
//     its agent died or refused)  -0.5
//   cancelled by a person          0   (not the route's doing)
// Budget tokens are input + output + cache-creation tokens of the attempt:
// what is billed at the input rate or above. Cache reads (a tenth of the
// price, mostly the agent's system prompt re-read every turn) are left out.
// The baseline is the median duration of the last BASELINE_WINDOW completed
// attempts of the same role, once there are BASELINE_MIN_SAMPLES of them;
// before that, the configured default.

export const REWARD = { success: 1, failure: -0.5, cancelled: 0, underBudget: 0.2, fasterThanBaseline: 0.1 } as const
export const BASELINE_WINDOW = 50
export const BASELINE_MIN_SAMPLES = 5

export type AttemptEnd = "completed" | "failed" | "cancelled" | "requeued"

export type Baseline = { ms: number; source: "median" | "default"; samples: number }

export type RewardInput = {
  end: AttemptEnd
  usage: Usage
  durationMs: number | null
  tokenBudget: number
  baseline: Baseline
}

export const budgetTokens = (u: Usage): number => u.inputTokens + u.outputTokens + u.cacheCreationTokens

export function reward(r: RewardInput): { reward: number; underBudget: boolean; faster: boolean } {
  if (r.end === "cancelled") return { reward: REWARD.cancelled, underBudget: false, faster: false }
  if (r.end !== "completed") return { reward: REWARD.failure, underBudget: false, faster: false }
  const underBudget = budgetTokens(r.usage) <= r.tokenBudget
  const faster = r.durationMs !== null && r.durationMs < r.baseline.ms
  const total = REWARD.success + (underBudget ? REWARD.underBudget : 0) + (faster ? REWARD.fasterThanBaseline : 0)
  return { reward: Math.round(total * 1e6) / 1e6, underBudget, faster }
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** The duration baseline from a role's recent completed durations (newest first). */
export function baselineOf(durations: readonly number[], fallbackMs: number): Baseline {
  const recent = durations.slice(0, BASELINE_WINDOW)
  if (recent.length < BASELINE_MIN_SAMPLES) return { ms: fallbackMs, source: "default", samples: recent.length }
  return { ms: median(recent), source: "median", samples: recent.length }
}
