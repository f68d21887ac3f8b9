import type { AcpHooks, AgentInfo } from "../acp/server"
import { actingFor } from "../acp/bridge"
import { RpcError } from "../acp/errors"
import { ErrorCode, type DelegateResult, type TaskOutcome } from "../acp/protocol"
import type { Store } from "../store/store"
import type { Task } from "../store/task-types"
import type { Orchestrator } from "./orchestrator"

// What ACP messages mean for tasks: the hooks the daemon gives the ACP server.
// Results and progress update the task (fenced by the attempt the agent holds,
// so a late answer from an agent that lost the task changes nothing); an agent
// that disconnects or goes unhealthy has its task requeued at once; an agent
// that comes back still running a task that is pending again claims it back.

export type HookDeps = { orchestrator: Orchestrator; store: Store; defer?: (fn: () => void) => void }

export function taskOutcome(task: Task): TaskOutcome | undefined {
  if (task.status !== "completed" && task.status !== "failed" && task.status !== "cancelled") return undefined
  return {
    taskId: task.id,
    status: task.status,
    output: task.result ?? undefined,
    error: task.error?.message,
    tokens: { input: task.usage.inputTokens, output: task.usage.outputTokens },
    costUsd: task.costUsd,
    durationMs: task.durationMs ?? undefined,
  }
}

export function acpHooks({ orchestrator: o, store, defer = (fn) => setTimeout(fn, 0) }: HookDeps): AcpHooks {
  /** The attempt `agentId` holds of a task, or undefined when the task is not (or no longer) its. */
  async function attemptOf(taskId: string, agentId: string): Promise<number | undefined> {
    const entry = o.entry(taskId)
    if (entry) return entry.agentId === agentId ? entry.attempt : undefined
    const task = await store.tasks.get(taskId)
    return task?.status === "running" && task.agentId === agentId && task.ownerDaemon === o.owner ? task.attempts : undefined
  }

  async function requeueAll(agent: AgentInfo, taskIds: readonly string[], code: string, message: string): Promise<void> {
    for (const id of taskIds) await o.requeue(id, agent.agentId, { code, message })
    void o.dispatch()
  }

  function agentRow(agent: AgentInfo, status: string) {
    return store.agents.upsert({
      id: agent.agentId,
      role: agent.role,
      driver: "remote",
      status,
      daemonId: o.owner,
      workerId: agent.host ?? null,
      metadata: { capabilities: agent.capabilities, version: agent.version ?? null },
    })
  }

  return {
    async onRegister(agent) {
      // The tasks it says it still runs: claim back the ones that are pending
      // again (this daemon restarted, or requeued them when it disconnected);
      // tell it to drop the ones someone else has now.
      const drop: string[] = []
      for (const id of agent.taskIds) {
        const task = await store.tasks.get(id)
        if (task?.status === "running" && task.agentId === agent.agentId && task.ownerDaemon === o.owner) {
          if (!o.entry(id)) o.track(task, { agentId: agent.agentId, attempt: task.attempts, timer: null, accepted: true })
          continue
        }
        const claimed = task?.status === "pending" ? await store.tasks.claim(id, { owner: o.owner, agentId: agent.agentId }) : undefined
        if (!claimed) {
          drop.push(id)
          continue
        }
        o.track(claimed.task, { agentId: agent.agentId, attempt: claimed.task.attempts, timer: null, accepted: true })
        await o.publish(claimed.event)
      }
      await agentRow(agent, agent.taskIds.length > drop.length ? "busy" : "idle")
      // The agent is admitted once this hook returns; act on it after that.
      defer(() => {
        for (const id of drop) o.tellAgentToDrop(agent.agentId, id, "the task is no longer assigned to this agent")
        o.agentState(agent.agentId, agent.taskIds.length > drop.length ? "busy" : "idle", null)
        void o.dispatch()
      })
    },

    onDisconnect(agent) {
      void requeueAll(agent, agent.taskIds, "agent_disconnected", `agent ${agent.agentId} disconnected while running the task`)
      void store.agents.markState(agent.agentId, "disconnected").catch(() => {})
    },

    onUnhealthy(agent, taskIds, reason) {
      void requeueAll(agent, taskIds, "agent_unhealthy", `agent ${agent.agentId} is unhealthy (${reason.replace("_", " ")})`)
      void store.agents.markState(agent.agentId, "unhealthy").catch(() => {})
    },

    onHealthy(agent) {
      void store.agents.markState(agent.agentId, agent.taskIds.length ? "busy" : "idle").catch(() => {})
      void o.dispatch()
    },

    onTasksLost(agent, taskIds) {
      void requeueAll(agent, taskIds, "agent_restarted", `agent ${agent.agentId} restarted and no longer runs the task`)
    },

    onProgress(agent, p) {
      void (async () => {
        const attempt = await attemptOf(p.taskId, actingFor(agent))
        if (attempt === undefined) return
        const data = p.data !== undefined && typeof p.data === "object" && p.data !== null && !Array.isArray(p.data) ? (p.data as Record<string, unknown>) : p.data === undefined ? {} : { data: p.data }
        const t = await store.tasks.progress(p.taskId, { progress: p.percent === undefined ? undefined : p.percent / 100, message: p.message, attempt, data })
        if (t) await o.publish(t.event)
      })()
    },

    async onTaskResult(agent, outcome) {
      const attempt = await attemptOf(outcome.taskId, agent.agentId)
      if (attempt === undefined) return // not this agent's any more: requeued, cancelled or timed out; drop it
      const common = {
        attempt,
        usage: outcome.tokens ? { inputTokens: outcome.tokens.input, outputTokens: outcome.tokens.output } : undefined,
        costUsd: outcome.costUsd,
        durationMs: outcome.durationMs,
        metadata: outcome.data === undefined ? undefined : { agentData: outcome.data },
      }
      const t =
        outcome.status === "completed"
          ? await store.tasks.complete(outcome.taskId, outcome.output ?? "", common)
          : outcome.status === "failed"
            ? await store.tasks.fail(outcome.taskId, { code: "agent_failed", message: outcome.error ?? `agent ${agent.agentId} reported failure` }, common)
            : await store.tasks.cancel(outcome.taskId, outcome.error ?? `cancelled by agent ${agent.agentId}`)
      o.forget(outcome.taskId)
      if (t) {
        await o.publish(t.event)
        o.router.observe?.(t.task, agent.agentId)
      }
      o.agentState(agent.agentId, "idle", null)
      void store.agents.markState(agent.agentId, "idle", { currentTaskId: null }).catch(() => {})
      defer(() => void o.dispatch()) // after the server untracks the task, so the agent counts as idle
    },

    async onDelegate(agent, params, signal): Promise<DelegateResult> {
      if (params.parentTaskId && !(await store.tasks.get(params.parentTaskId))) {
        throw new RpcError(ErrorCode.invalidParams, `Invalid params: parentTaskId: no task ${params.parentTaskId}`)
      }
      const task = await o.createTask({
        description: params.title ?? params.prompt.slice(0, 500),
        prompt: params.prompt,
        role: params.role ?? null,
        parentId: params.parentTaskId ?? null,
        metadata: { ...params.metadata, delegatedBy: actingFor(agent) },
        source: "delegation",
      })
      if (!params.wait) return { taskId: task.id }
      const ended = await o.waitFor(task.id, params.timeoutMs ?? 300_000, signal)
      const result = ended && taskOutcome(ended)
      return result ? { taskId: task.id, result } : { taskId: task.id }
    },
  }
}
