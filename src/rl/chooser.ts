import { ACTIONS } from "../orchestrator/features"
import type { Rng } from "./rng"
import type { Params, Policy } from "./types"

// The safety rules around every learned policy, in one place (the daemon's
// router and the simulator both choose through here):
// - only eligible actions are ever chosen (ineligible ones get probability 0);
// - an untrained policy (fewer than `warmup` rewards) or an unsure one (its
//   own `confident` says so) leaves the choice to the heuristic;
// - exploration is bounded: a share ε ≤ 0.5 of the probability is spread
//   uniformly over the eligible actions, the rest follows the target;
// - the probability of what was chosen (propensity) is returned, so a new
//   policy can be scored on logged decisions (ope.ts).

export type Choice = {
  action: number
  /** Probability the behaviour policy gave this action. */
  propensity: number
  /** The behaviour distribution over all actions. */
  probs: Float64Array
  decidedBy: "policy" | "heuristic"
  reason: "only-choice" | "untrained" | "unsure" | "policy"
  /** The action was drawn from the exploration share, not the target's choice. */
  explored: boolean
  scores: Float64Array | null
  /** What the policy (or the heuristic it deferred to) chose, before exploration. */
  target: Float64Array
}

/** The behaviour distribution the router draws from (also what off-policy evaluation scores a policy by). */
export function behaviour(policy: Policy | null, x: Float32Array, eligible: readonly boolean[], heuristic: number, params: Params): Omit<Choice, "action" | "propensity" | "explored"> | null {
  const options = eligible.reduce((n, e) => n + (e ? 1 : 0), 0)
  if (options === 0) return null
  const h = heuristic >= 0 && eligible[heuristic] ? heuristic : -1
  const onehot = (a: number) => {
    const p = new Float64Array(ACTIONS)
    if (a >= 0) p[a] = 1
    else for (let i = 0; i < ACTIONS; i++) p[i] = eligible[i] ? 1 / options : 0
    return p
  }
  if (options === 1) {
    const only = eligible.indexOf(true)
    return { probs: onehot(only), target: onehot(only), decidedBy: h === only ? "heuristic" : "policy", reason: "only-choice", scores: null }
  }
  let target: Float64Array
  let decidedBy: Choice["decidedBy"] = "heuristic"
  let reason: Choice["reason"]
  let scores: Float64Array | null = null
  if (!policy || policy.updates < params.warmup) {
    target = onehot(h)
    reason = "untrained"
  } else {
    const e = policy.evaluate(x, eligible, h)
    scores = e.scores
    if (!e.confident && h >= 0) {
      target = onehot(h)
      reason = "unsure"
    } else {
      target = e.probs
      decidedBy = "policy"
      reason = "policy"
    }
  }
  const eps = Math.min(0.5, Math.max(0, policy && decidedBy === "policy" ? policy.epsilon() : params.epsilon))
  const probs = new Float64Array(ACTIONS)
  for (let a = 0; a < ACTIONS; a++) probs[a] = eligible[a] ? (1 - eps) * target[a]! + eps / options : 0
  return { probs, target, decidedBy, reason, scores }
}

export function choose(policy: Policy | null, x: Float32Array, eligible: readonly boolean[], heuristic: number, params: Params, rng: Rng): Choice | null {
  const b = behaviour(policy, x, eligible, heuristic, params)
  if (!b) return null
  const action = rng.pick(b.probs)
  return { ...b, action, propensity: b.probs[action]!, explored: b.target[action]! === 0 }
}
