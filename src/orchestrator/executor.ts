import type { Task, TaskError, Usage } from "../store/task-types"

// Where tasks run. Two executors sit behind this one interface: the local
// pool (Claude Code processes this daemon supervises, local.ts) and remote
// agents over ACP (`cca worker` and any other ACP client, remote.ts). The
// dispatcher lists their agents, routes, claims and assigns alike; what the
// agents report comes back through the TaskSink.

export type ExecutorKind = "local" | "remote"

/** An agent as the dispatcher sees it. */
export type Worker = {
  id: string
  role: string
  executor: ExecutorKind
  /** Healthy and connected (remote) or running (local): it counts as part of the pool. */
  live: boolean
  /** Live and running no task (an offer in flight counts as busy at the dispatcher). */
  idle: boolean
}

export type AssignAnswer = { accepted: boolean; reason?: string }

export interface Executor {
  readonly kind: ExecutorKind
  /** Every agent it knows of. Cheap: the dispatcher calls it every round. */
  workers(): Worker[]
  /** Offer a task. Accepted: the agent runs it, and its outcome comes back through the sink. */
  assign(agentId: string, task: Task, attempt: number): Promise<AssignAnswer>
  /** Stop a task the agent runs (cancelled, timed out, or taken from it). */
  cancel(agentId: string, taskId: string, reason: string): void
  /** Forget a task without telling the agent (it was requeued after the agent was lost). */
  release(agentId: string, taskId: string): void
  /** Room to start another agent of `role` now (max_agents, circuit breakers); without a role: is there room at all. */
  canSpawn(role?: string): boolean
  /** Start an agent of `role`; resolves when it is ready to take a task. */
  spawn(role: string): Promise<Worker>
}

/** How one attempt ended, as the agent reports it. */
export type Outcome = {
  taskId: string
  status: "completed" | "failed" | "cancelled"
  output?: string
  error?: string
  /** The task error's code when it failed (default agent_failed) and its details, e.g. model_api_error with the HTTP status. */
  errorCode?: string
  errorDetails?: Record<string, unknown>
  usage?: Partial<Usage>
  costUsd?: number
  durationMs?: number
  sessionId?: string
  data?: unknown
}

export type Progress = { taskId: string; message?: string; percent?: number; data?: unknown }

/** What executors report back; the orchestrator implements it. */
export interface TaskSink {
  progress(agentId: string, p: Progress): void
  result(agentId: string, outcome: Outcome): Promise<void>
  /** The agent died (crashed, disconnected, unhealthy) while running these tasks: retry them elsewhere. */
  lost(agentId: string, taskIds: readonly string[], reason: TaskError): Promise<void>
  /** An agent came up, or became idle: look for work. */
  changed(): void
}
