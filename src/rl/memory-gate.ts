import { ACTIONS, FEATURE_NAMES, TEXT_DIMS, TEXT_OFFSET } from "../orchestrator/features"
import { forgetfulUpdate, invertSpd, linearEstimate } from "./linalg"
import type { Rng } from "./rng"
import type { Params, Sample } from "./types"

// The second half of the composite action: whether the task's prompt gets
// the memory block (src/memory/loop.ts, the ReasoningBank's patterns). A
// pattern that fits helps; one that does not costs tokens and can mislead,
// and which it is depends on the kind of task and the role doing it. So a
// two-armed LinUCB (arm 0: without memory, arm 1: with it) over what is known
// of the task (its text vector, size) and the role it was routed to learns
// from the same reward as the route. The default is what cca does without
// learning, inject: an untrained gate, or one whose "without" is not better
// by `margin`, injects. ε of the probability is spread over both, so
// leaving memory out is tried now and then and the decision has support for
// off-policy scoring; its probability is recorded with the route's.

const COMPLEXITY = FEATURE_NAMES.indexOf("task.complexity")
/** bias, the role routed to (one-hot), complexity, the text vector */
export const GATE_DIMS = 1 + ACTIONS + 1 + TEXT_DIMS
const D = GATE_DIMS

/** What a gate reads of a decision (bias, the role routed to, complexity, the text vector), written into `z` (GATE_DIMS long). */
export function gateInput(x: ArrayLike<number>, action: number, z: Float64Array): Float64Array {
  z.fill(0)
  z[0] = 1
  if (action >= 0 && action < ACTIONS) z[1 + action] = 1
  z[1 + ACTIONS] = x[COMPLEXITY] ?? 0
  for (let i = 0; i < TEXT_DIMS; i++) z[2 + ACTIONS + i] = x[TEXT_OFFSET + i] ?? 0
  return z
}

export type MemoryChoice = {
  inject: boolean
  /** Probability the gate gave this choice (with its ε share). */
  propensity: number
  decidedBy: "policy" | "default"
  reason: "untrained" | "unsure" | "policy"
  explored: boolean
}

/** What a recorded decision says of the memory half (route info `memory`), if it had one. */
export function memoryOfInfo(m: Record<string, unknown> | undefined): { inject: boolean; propensity: number } | undefined {
  const g = m?.memory as { inject?: unknown; propensity?: unknown } | undefined
  if (!g || typeof g.inject !== "boolean") return undefined
  const p = Number(g.propensity)
  return { inject: g.inject, propensity: Number.isFinite(p) && p > 0 && p <= 1 ? p : 1 }
}

export class MemoryGate {
  private a: Float64Array[] = []
  private b: Float64Array[] = []
  private inv: Float64Array[] = []
  private dirty = [true, true]
  private readonly z = new Float64Array(D)
  private readonly scratch = new Float64Array(D * D)
  updates = 0

  constructor(private p: Params) {
    this.reset()
  }

  setParams(p: Params): void {
    this.p = p
  }

  reset(): void {
    const eye = () => {
      const m = new Float64Array(D * D)
      for (let i = 0; i < D; i++) m[i * D + i] = 1
      return m
    }
    this.a = [eye(), eye()]
    this.inv = [eye(), eye()]
    this.b = [new Float64Array(D), new Float64Array(D)]
    this.dirty = [false, false]
    this.updates = 0
  }

  private input(x: ArrayLike<number>, action: number): Float64Array {
    return gateInput(x, action, this.z)
  }

  /** Estimated reward and confidence width of one arm (0 without memory, 1 with). */
  estimate(x: ArrayLike<number>, action: number, arm: 0 | 1): { mean: number; width: number } {
    if (this.dirty[arm]) {
      invertSpd(this.a[arm]!, D, this.inv[arm]!, this.scratch)
      this.dirty[arm] = false
    }
    const z = this.input(x, action)
    return linearEstimate(this.inv[arm]!, this.b[arm]!, z, D)
  }

  /** Inject or not for a task routed to `action`. */
  choose(x: ArrayLike<number>, action: number, rng: Rng): MemoryChoice {
    let target = 1
    let reason: MemoryChoice["reason"] = "untrained"
    if (this.updates >= this.p.warmup) {
      const off = this.estimate(x, action, 0)
      const on = this.estimate(x, action, 1)
      const gap = off.mean + this.p.exploration * off.width - (on.mean + this.p.exploration * on.width)
      if (gap >= this.p.margin) (target = 0), (reason = "policy")
      else reason = gap > 0 ? "unsure" : "policy"
    }
    const eps = Math.min(0.5, Math.max(0, this.p.epsilon))
    const pOn = target === 1 ? 1 - eps / 2 : eps / 2
    const inject = rng.next() < pOn
    return {
      inject,
      propensity: inject ? pOn : 1 - pOn,
      decidedBy: reason === "policy" ? "policy" : "default",
      reason,
      explored: (inject ? 1 : 0) !== target,
    }
  }

  observe(x: ArrayLike<number>, action: number, inject: boolean, reward: number): void {
    const arm = inject ? 1 : 0
    const z = this.input(x, action)
    forgetfulUpdate(this.a[arm]!, this.b[arm]!, z, reward, D, this.p.forgetting)
    this.dirty[arm] = true
    this.updates++
  }

  /** Learn a recorded decision's memory half, when it had one. */
  observeSample(s: Sample): void {
    if (s.memory) this.observe(s.x, s.action, s.memory.inject, s.reward)
  }

  train(samples: readonly Sample[]): void {
    this.reset()
    for (const s of samples) this.observeSample(s)
  }
}
