import type { AgentInfo } from "../acp/registry"
import type { Task } from "../store/task-types"

// Which agent gets a task. The dispatcher hands the router a task and the
// agents that could take it now (registered, healthy, connected, idle, and of
// the task's role when it has one); the router picks one or none. Learned
// routing (issue: rl) replaces this behind the same interface.

export interface Router {
  readonly name: string
  /** One of `candidates` for `task`, or undefined to leave the task pending for now. */
  pick(task: Task, candidates: readonly AgentInfo[]): AgentInfo | undefined
  /** The task ended; learning routers record the outcome. */
  observe?(task: Task, agentId: string): void
}

/** Role match (the dispatcher filters), then the agent that has waited longest since its last task. */
export class RoleRouter implements Router {
  readonly name = "role"
  private lastAssigned = new Map<string, number>()
  private tick = 0

  pick(_task: Task, candidates: readonly AgentInfo[]): AgentInfo | undefined {
    let best: AgentInfo | undefined
    let bestAt = Number.POSITIVE_INFINITY
    for (const a of candidates) {
      const at = this.lastAssigned.get(a.agentId) ?? -1
      if (at < bestAt || (at === bestAt && best && a.agentId < best.agentId)) {
        best = a
        bestAt = at
      }
    }
    if (best) this.lastAssigned.set(best.agentId, ++this.tick)
    return best
  }
}

/** The agents that may take `task`: its role's, or any when it has none. */
export function eligible(task: Pick<Task, "role">, idle: readonly AgentInfo[]): AgentInfo[] {
  return task.role ? idle.filter((a) => a.role === task.role) : [...idle]
}
