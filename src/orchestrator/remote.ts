import { isBridge } from "../acp/bridge"
import type { AcpServer } from "../acp/server"
import type { Task } from "../store/task-types"
import type { AssignAnswer, Executor, Worker } from "./executor"

// The remote executor: agents connected over ACP (`cca worker` on another
// machine, or any ACP client that registers with a role). A task is offered
// with `task_assign`; the agent answers with `task_result`, which the ACP
// hooks (acp-hooks.ts) hand to the orchestrator. MCP bridges (an agent's
// `cca mcp --agent ID` link) are never offered tasks. Remote agents cannot be
// spawned from here: a worker brings its own.

export type AcpPort = Pick<AcpServer, "assignTask" | "cancelTask" | "releaseTask" | "agents" | "agent">

export class RemoteExecutor implements Executor {
  readonly kind = "remote" as const

  constructor(private readonly acp: AcpPort) {}

  workers(): Worker[] {
    return this.acp
      .agents({ health: "healthy", connected: true })
      .filter((a) => !isBridge(a))
      .map((a) => ({ id: a.agentId, role: a.role, executor: "remote", live: true, idle: a.taskIds.length === 0 }))
  }

  assign(agentId: string, task: Task): Promise<AssignAnswer> {
    return this.acp.assignTask(agentId, {
      taskId: task.id,
      prompt: task.prompt ?? task.description,
      role: task.role ?? undefined,
      title: task.description,
      parentTaskId: task.parentId ?? undefined,
      metadata: task.metadata,
    })
  }

  cancel(agentId: string, taskId: string, reason: string): void {
    this.acp.cancelTask(agentId, taskId, reason)
  }

  release(agentId: string, taskId: string): void {
    this.acp.releaseTask(agentId, taskId)
  }

  canSpawn(): boolean {
    return false
  }

  spawn(role: string): Promise<Worker> {
    return Promise.reject(new Error(`remote agents of role ${role} are started by their worker, not by the daemon`))
  }
}
