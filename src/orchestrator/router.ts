import type { Task } from "../store/task-types"
import { classify, type ClassifyInput, type RoleDecision } from "./classify"
import type { Worker } from "./executor"
import type { Decision } from "./experiences"
import type { EncodedState } from "./features"

// Which role a task is for, and which agent runs it. The dispatcher asks the
// router twice: when a task is created (`classify`: the role it is persisted
// with) and in every dispatch round for each pending task (`route`: an idle
// agent, a new agent of the role, or wait). A learned router (Q-learning,
// DQN, PPO; src/rl, later) implements the same interface and reads the
// encoded state; its action log-probability and value estimate, when it has
// them, are recorded with the decision.

export type RoutingContext = {
  task: Task
  /** Idle agents that may take it: its role's, or any when it has none. */
  candidates: readonly Worker[]
  /** Whether a new agent of `spawnRole` may be started for it now. */
  canSpawn: boolean
  /** The role a spawned agent would have: the task's, or the default for unrouted tasks. */
  spawnRole: string
  /** Agents that already had this task and lost it (crashed, refused, disconnected). */
  tried: ReadonlySet<string>
  state: EncodedState
  /** The task's role is a preference (found from its words, or none): a router that chooses roles may pick another. */
  soft: boolean
  /** Every idle agent (`candidates` is its subset of the task's role when that role binds). */
  idle: readonly Worker[]
  /** Whether a new agent of `role` may be started now. */
  spawnable(role: string): boolean
  /** Promise the task one agent of `role` that is being started and not promised yet (true: wait for it). */
  awaitStarting(role: string): boolean
}

export type Route =
  | { kind: "assign"; agent: Worker; logProb?: number; value?: number; info?: Record<string, unknown> }
  | { kind: "spawn"; role: string }
  | { kind: "wait" }

export type Observation = {
  taskId: string
  agentId: string
  role: string
  reward: number
  done: boolean
  /** The decision as recorded (state, action, metadata) and the state when the attempt ended. */
  decision?: Decision
  next?: EncodedState | null
  outcome?: { completed: boolean; durationMs: number | null; tokens: number }
}

export interface Router {
  readonly name: string
  /** The role a new task is persisted with. */
  classify(input: ClassifyInput): RoleDecision
  route(ctx: RoutingContext): Route
  /** A decision's reward is known; routers that learn online take it here. */
  observe?(o: Observation): void
  /** Routing facts computed once when the task is created, kept in metadata.routing (e.g. the text vector). */
  prepare?(input: ClassifyInput): Promise<Record<string, unknown> | undefined>
  /** The router may route soft tasks to another role than theirs (the dispatcher then offers it every idle agent). */
  readonly choosesRoles?: boolean
}

/**
 * The heuristic router. Role: explicit, else coordinator for `coordinate` or
 * multi-role content, else the content's strongest role (classify.ts). Agent:
 * idle ones first, preferring one that has not already lost this task, then
 * the one that has waited longest since its last task; with no idle agent, a
 * new one when the pool has room; else the task waits in the queue.
 */
export class HeuristicRouter implements Router {
  readonly name = "heuristic"
  private lastAssigned = new Map<string, number>()
  private tick = 0

  /** Count `agent` as just given a task (a router that wraps this one calls it for its own assignments). */
  assigned(agent: Worker): void {
    this.lastAssigned.set(agent.id, ++this.tick)
  }

  classify(input: ClassifyInput): RoleDecision {
    return classify(input)
  }

  route(ctx: RoutingContext): Route {
    const fresh = ctx.candidates.filter((a) => !ctx.tried.has(a.id))
    const pool = fresh.length > 0 ? fresh : ctx.canSpawn ? [] : ctx.candidates
    const agent = this.longestWaiting(pool)
    if (agent) {
      this.assigned(agent)
      return { kind: "assign", agent }
    }
    return ctx.canSpawn ? { kind: "spawn", role: ctx.spawnRole } : { kind: "wait" }
  }

  /** The agent `route` would assign from `pool` (idle longest), without counting it as assigned. */
  longestWaiting(candidates: readonly Worker[]): Worker | undefined {
    let best: Worker | undefined
    let bestAt = Number.POSITIVE_INFINITY
    for (const a of candidates) {
      const at = this.lastAssigned.get(a.id) ?? -1
      if (at < bestAt || (at === bestAt && best && a.id < best.id)) {
        best = a
        bestAt = at
      }
    }
    return best
  }
}

/** The agents that may take `task`: its role's, or any when it has none. */
export function eligible(task: Pick<Task, "role">, idle: readonly Worker[]): Worker[] {
  return task.role ? idle.filter((a) => a.role === task.role) : [...idle]
}
