// What every learned routing algorithm is to the rest of cca: a Policy that
// reads the encoded state (src/orchestrator/features.ts), gives each eligible
// action (a role) a probability, learns from each reward online, retrains
// from a batch of recorded experiences, and saves itself as a blob.

export const ALGORITHMS = ["heuristic", "linucb", "q_learning", "dqn", "ppo"] as const
export type Algorithm = (typeof ALGORITHMS)[number]
export type LearnedAlgorithm = Exclude<Algorithm, "heuristic">
export const LEARNED: readonly LearnedAlgorithm[] = ["linucb", "q_learning", "dqn", "ppo"]

/** Hyperparameters; every algorithm reads the ones it uses (params.ts has ranges and defaults). */
export type Params = {
  /** Step size of the tabular Q-learning update. */
  learning_rate: number
  /** Adam step size of the DQN and PPO networks. */
  network_learning_rate: number
  /** γ: weight of the next state's value (only attempts that were requeued have one). */
  discount: number
  /** Share of decisions drawn uniformly from the eligible roles (bounded exploration; DQN starts higher and decays to it). */
  epsilon: number
  /** LinUCB's α: how much the confidence width adds to a role's score. */
  exploration: number
  /** LinUCB's weight on old evidence per new observation of a role (1 = never forget; lower adapts to drift faster). */
  forgetting: number
  /** Samples per network training step. */
  batch_size: number
  /** Rewards a learned policy must have seen before it routes instead of the heuristic. */
  warmup: number
  /** A learned choice overrides the heuristic's only when it scores this much better; closer than that the policy is unsure and the heuristic decides. */
  margin: number
}

/** One recorded decision as the algorithms learn from it. */
export type Sample = {
  x: Float32Array
  action: number
  reward: number
  next: Float32Array | null
  done: boolean
  /** The actions that were eligible then (masks the networks' outputs). */
  eligible: readonly boolean[]
  /** Probability the behaviour policy gave `action` (1 for a deterministic heuristic). */
  propensity: number
  /** The composite action's memory half, when the decision had one (memory-gate.ts). */
  memory?: { inject: boolean; propensity: number }
  /** The composite action's token-budget half, when the decision had one (budget-tier.ts): the tier's index. */
  budget?: { tier: number; propensity: number }
}

export type Evaluation = {
  /** Probabilities over all actions (0 for ineligible ones): the policy's own choice before the router's safety rules. */
  probs: Float64Array
  /** A score per action (estimated reward, UCB, Q-value or logit), for status and ties. */
  scores: Float64Array
  /** false: the policy does not know enough here (the router then lets the heuristic decide). */
  confident: boolean
}

export type Blob = { meta: Record<string, unknown>; arrays: (Float32Array | Float64Array)[] }

export interface Policy {
  readonly algorithm: LearnedAlgorithm
  /** Rewards learned from (online and in batches) since the last reset. */
  readonly updates: number
  /** Last training loss, when the algorithm has one. */
  readonly loss: number | null
  /** `heuristic`: the action the heuristic would take, or -1. */
  evaluate(x: Float32Array, eligible: readonly boolean[], heuristic: number): Evaluation
  /** The exploration share to mix in now (DQN's decays; others use params.epsilon). */
  epsilon(): number
  /** Learn from one reward. */
  observe(s: Sample): void
  /** Forget everything and learn from these samples (oldest first). Yields to the event loop between chunks. */
  train(samples: readonly Sample[]): Promise<void>
  setParams(p: Params): void
  save(): Blob
  load(b: Blob): void
}
