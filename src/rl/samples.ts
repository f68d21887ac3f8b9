import { ACTIONS, actionIndex, TEXT_DIMS, TEXT_OFFSET, type EncodedState } from "../orchestrator/features"
import type { LoggedDecision } from "./repo"
import { tierOfInfo } from "./budget-tier"
import { memoryOfInfo } from "./memory-gate"
import type { Sample } from "./types"

// From recorded decisions (rl_experiences rows) to what the algorithms read.
// A state whose text vector lives in another space than the router's (the
// embedder changed, or a semantic embed failed and hashed words stood in) has
// its text slots zeroed: vectors of two spaces are never mixed.

export function inputOf(state: EncodedState, space: string): Float32Array {
  const x = Float32Array.from(state.features)
  if ((state.task.textSpace ?? "") !== space) x.fill(0, TEXT_OFFSET, TEXT_OFFSET + TEXT_DIMS)
  return x
}

/** The eligible actions a decision was made among (recorded by the learned router; else only the action taken). */
export function eligibleOfDecision(d: Pick<LoggedDecision, "actionIndex" | "metadata">): boolean[] {
  const e = d.metadata.eligible
  if (Array.isArray(e) && e.length === ACTIONS) return e.map(Boolean)
  return Array.from({ length: ACTIONS }, (_, a) => a === d.actionIndex)
}

/** The heuristic's action for a recorded decision (recorded by the learned router; else the task's role, else the action taken). */
export function heuristicOfDecision(d: LoggedDecision): number {
  const h = d.metadata.heuristic
  if (typeof h === "number") return h
  return d.state.task.role ? actionIndex(d.state.task.role) : d.actionIndex
}

export function sampleOf(d: LoggedDecision, space: string): Sample {
  const p = Number(d.metadata.propensity)
  return {
    x: inputOf(d.state, space),
    action: d.actionIndex,
    reward: d.reward,
    next: d.nextState ? inputOf(d.nextState, space) : null,
    done: d.done,
    eligible: eligibleOfDecision(d),
    propensity: Number.isFinite(p) && p > 0 && p <= 1 ? p : 1,
    memory: memoryOfInfo(d.metadata),
    budget: tierOfInfo(d.metadata),
  }
}
