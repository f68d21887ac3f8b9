import { classify, type ClassifyInput, type RoleDecision } from "../orchestrator/classify"
import type { Worker } from "../orchestrator/executor"
import { ACTION_ROLES, ACTIONS, actionIndex, OTHER_ROLE_INDEX } from "../orchestrator/features"
import { HeuristicRouter, type Observation, type Route, type Router, type RoutingContext } from "../orchestrator/router"
import { choose, type Choice } from "./chooser"
import { tierInfo, tierOfInfo, type TierGate } from "./budget-tier"
import { memoryOfInfo, type MemoryGate } from "./memory-gate"
import { inputOf } from "./samples"
import type { Rng } from "./rng"
import type { Algorithm, Params, Policy, Sample } from "./types"

// The learned router: the orchestrator's Router with a learned policy
// choosing the role of every task whose role does not bind (found from its
// words, or none). A role the user named, `coordinate`, and the `heuristic`
// algorithm go through the heuristic router unchanged. For the rest:
// - eligible roles are those with an idle or busy agent or room to start one
//   (and `other` when an idle custom-role agent is there), so no task waits
//   on a role that has no agent and no room;
// - the chooser (chooser.ts) applies warm-up, unsure → heuristic, and
//   bounded exploration, and gives the choice's probability;
// - the choice sticks to the task until it is assigned (a spawned agent is
//   waited for, not second-guessed), unless its role stops being eligible.
// `route` is synchronous: the text vector was computed when the task was
// created (`prepare`) and is read from the encoded state.

export type LearnedRouterDeps = {
  algorithm(): Algorithm
  policy(): Policy | null
  params(): Params
  rng: Rng
  /** The text space the policies were trained in. */
  space(): string
  prepare?: (text: string) => Promise<Record<string, unknown> | undefined>
  observe(sample: Sample, o: Observation): void
  /** The memory half of the composite action, when memory injection is on in this daemon (else null: no decision). */
  gate?(): MemoryGate | null
  /** The token-budget half of the composite action, when a token budget is set in this daemon (else null: no decision). */
  tiers?(): TierGate | null
}

type Sticky = { action: number; choice: Choice; eligible: boolean[]; heuristic: number }

export class LearnedRouter implements Router {
  readonly choosesRoles = true
  readonly heuristic = new HeuristicRouter()
  private readonly sticky = new Map<string, Sticky>()

  constructor(private readonly d: LearnedRouterDeps) {}

  get name(): string {
    return this.d.algorithm()
  }

  classify(input: ClassifyInput): RoleDecision {
    return classify(input)
  }

  async prepare(input: ClassifyInput): Promise<Record<string, unknown> | undefined> {
    return this.d.prepare?.(input.prompt ? `${input.description}\n${input.prompt}` : input.description)
  }

  route(ctx: RoutingContext): Route {
    const algorithm = this.d.algorithm()
    if (!ctx.soft || algorithm === "heuristic") {
      const r = this.heuristic.route(ctx)
      if (r.kind !== "assign") return r
      const memory = algorithm === "heuristic" ? null : this.composite(ctx, actionIndex(r.agent.role), 1, false)
      return { ...r, logProb: 0, info: { decidedBy: "heuristic", reason: ctx.soft ? "algorithm" : "binding", propensity: 1, ...memory } }
    }
    const eligible = this.eligible(ctx)
    const heuristic = this.heuristicAction(ctx, eligible)
    const x = inputOf(ctx.state, this.d.space())
    let s = this.sticky.get(ctx.task.id)
    if (s && !eligible[s.action]) s = undefined
    if (!s) {
      const choice = choose(this.d.policy(), x, eligible, heuristic, this.d.params(), this.d.rng)
      if (!choice) return { kind: "wait" } // nothing eligible: no agent and no room anywhere
      s = { action: choice.action, choice, eligible, heuristic }
      if (this.sticky.size > 10_000) this.sticky.clear()
      this.sticky.set(ctx.task.id, s)
    }
    const agent = this.agentFor(ctx, s.action)
    if (agent) {
      this.sticky.delete(ctx.task.id)
      this.heuristic.assigned(agent)
      const c = s.choice
      return {
        kind: "assign",
        agent,
        logProb: Math.log(c.propensity),
        info: {
          decidedBy: c.decidedBy,
          reason: c.reason,
          explored: c.explored,
          propensity: round(c.propensity),
          eligible: s.eligible,
          heuristic: s.heuristic,
          scores: c.scores ? Array.from(c.scores, (v) => (Number.isFinite(v) ? round(v) : null)) : null,
          ...this.composite(ctx, s.action, c.propensity),
        },
      }
    }
    const role = ACTION_ROLES[s.action]
    if (role && !ctx.awaitStarting(role) && ctx.spawnable(role)) return { kind: "spawn", role }
    return { kind: "wait" } // an agent of the role is busy or starting
  }

  observe(o: Observation): void {
    const d = o.decision
    if (!d || d.actionIndex === undefined) return
    const m = d.metadata
    const eligible = Array.isArray(m.eligible) && m.eligible.length === ACTIONS ? (m.eligible as boolean[]) : Array.from({ length: ACTIONS }, (_, a) => a === d.actionIndex)
    const p = Number(m.propensity)
    const space = this.d.space()
    this.d.observe(
      {
        x: inputOf(d.state, space),
        action: d.actionIndex,
        reward: o.reward,
        next: o.next ? inputOf(o.next, space) : null,
        done: o.done,
        eligible,
        propensity: Number.isFinite(p) && p > 0 ? p : 1,
        memory: memoryOfInfo(m),
        budget: tierOfInfo(m),
      },
      o,
    )
  }

  /**
   * The other halves of the composite action for a task going to `action`:
   * - memory: none when memory injection is off here or the task turned it
   *   off (metadata.memory = false: the user's word wins, as a named role
   *   does); recorded as `memory` (inject, its probability, who decided);
   * - budget: none when no token budget is set here, or when the task's
   *   role binds (the user named it, or `coordinate`: the route is not the
   *   policy's, and a budget set for that role is the user's word too);
   *   recorded as `budget` (tier, multiple, its probability, who decided).
   * `compositePropensity` is the route's probability times theirs.
   */
  private composite(ctx: RoutingContext, action: number, routePropensity = 1, budget = true): Record<string, unknown> | null {
    const gate = this.d.gate?.()
    const tiers = budget ? this.d.tiers?.() : null
    const x = gate || tiers ? inputOf(ctx.state, this.d.space()) : null
    if (!x) return null
    const out: Record<string, unknown> = {}
    let p = routePropensity
    if (gate && ctx.task.metadata?.memory !== false) {
      const m = gate.choose(x, action, this.d.rng)
      out.memory = { inject: m.inject, propensity: round(m.propensity), decidedBy: m.decidedBy, reason: m.reason, explored: m.explored }
      p *= m.propensity
    }
    if (tiers) {
      const t = tiers.choose(x, action, this.d.rng)
      out.budget = tierInfo(t)
      p *= t.propensity
    }
    if (out.memory === undefined && out.budget === undefined) return null
    out.compositePropensity = round(p)
    return out
  }

  /** Roles that have an agent (idle or busy) or room for one; `other`: an idle custom-role agent. */
  private eligible(ctx: RoutingContext): boolean[] {
    const pool = ctx.state.pool
    const out = ACTION_ROLES.map((r) => (pool.idle[r] ?? 0) > 0 || (pool.busy[r] ?? 0) > 0 || ctx.idle.some((w) => w.role === r) || ctx.spawnable(r))
    out.push(ctx.idle.some((w) => actionIndex(w.role) === OTHER_ROLE_INDEX))
    return out
  }

  /** What the heuristic router would do: the task's role when eligible, else the agent idle longest, else the role it would start. */
  private heuristicAction(ctx: RoutingContext, eligible: readonly boolean[]): number {
    if (ctx.task.role) {
      const a = actionIndex(ctx.task.role)
      if (eligible[a]) return a
    }
    const fresh = ctx.idle.filter((w) => !ctx.tried.has(w.id))
    const agent = this.heuristic.longestWaiting(fresh.length > 0 ? fresh : ctx.idle)
    if (agent) return actionIndex(agent.role)
    const a = actionIndex(ctx.spawnRole)
    return eligible[a] ? a : -1
  }

  private agentFor(ctx: RoutingContext, action: number): Worker | undefined {
    const mine = ctx.idle.filter((w) => actionIndex(w.role) === action)
    const fresh = mine.filter((w) => !ctx.tried.has(w.id))
    return this.heuristic.longestWaiting(fresh.length > 0 ? fresh : mine)
  }
}

const round = (x: number) => Math.round(x * 1e4) / 1e4
