import type { AcpHooks, AgentInfo } from "../acp/server"
import { actingFor, isBridge } from "../acp/bridge"
import type { DelegateResult, TaskOutcome } from "../acp/protocol"
import type { Store } from "../store/store"
import type { Task, Usage } from "../store/task-types"
import type { Outcome } from "./executor"
import type { Orchestrator } from "./orchestrator"

// What ACP messages mean for tasks: the hooks the daemon gives the ACP server.
// Results and progress go to the orchestrator's task sink, as the local
// executor's do (fenced there by the attempt the agent holds, so a late
// answer from an agent that lost the task changes nothing); an agent that
// disconnects or goes unhealthy has its task requeued at once; an agent that
// comes back still running a task that is pending again claims it back.
// Delegation (`agent.delegate`, what `cca_delegate` sends) creates a child
// task of the delegating agent's current one.

export type HookDeps = { orchestrator: Orchestrator; store: Store; defer?: (fn: () => void) => void }

/** A finished task as ACP carries it (a delegation's result, `cca_delegate` with wait). */
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
    data: { usage: task.usage, agentId: task.agentId, role: task.role, ...(task.metadata.aggregate === undefined ? {} : { aggregate: task.metadata.aggregate }) },
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)
const count = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined)

/**
 * A `task_result` as an outcome. ACP's `tokens` has input and output only;
 * a worker sends the rest in `data`: `usage` with the store's names
 * (cacheReadTokens, cacheCreationTokens; inputTokens and outputTokens win over
 * `tokens` when given) and `sessionId`.
 */
export function acpOutcome(o: TaskOutcome): Outcome {
  const data = isRecord(o.data) ? o.data : {}
  const u = isRecord(data.usage) ? data.usage : {}
  const usage: Partial<Usage> = {
    inputTokens: count(u.inputTokens) ?? o.tokens?.input,
    outputTokens: count(u.outputTokens) ?? o.tokens?.output,
    cacheReadTokens: count(u.cacheReadTokens),
    cacheCreationTokens: count(u.cacheCreationTokens),
  }
  return {
    taskId: o.taskId,
    status: o.status,
    output: o.output,
    error: o.error,
    ...(typeof data.errorCode === "string" && /^[a-z][a-z0-9_]{0,63}$/.test(data.errorCode) ? { errorCode: data.errorCode } : {}),
    ...(isRecord(data.errorDetails) ? { errorDetails: data.errorDetails } : {}),
    usage: Object.values(usage).some((x) => x !== undefined) ? usage : undefined,
    costUsd: o.costUsd,
    durationMs: o.durationMs,
    sessionId: typeof data.sessionId === "string" ? data.sessionId : undefined,
    data: o.data,
  }
}

export function acpHooks({ orchestrator: o, store, defer = (fn) => setTimeout(fn, 0) }: HookDeps): AcpHooks {
  const lost = (agent: AgentInfo, taskIds: readonly string[], code: string, message: string) => void o.lost(agent.agentId, taskIds, { code, message })

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
      // The tasks it says it still runs: keep the ones this daemon tracks,
      // take over the ones another daemon holds for this agent (the agent
      // failed over here), claim back the ones that are pending again (a
      // restart, a disconnect, an adoption); tell it to drop the ones someone
      // else has now.
      const drop: string[] = []
      for (const id of agent.taskIds) {
        const task = await store.tasks.get(id)
        if (task?.status === "running" && task.agentId === agent.agentId && task.ownerDaemon === o.owner) {
          if (!o.entry(id)) o.track(task, agent.agentId, o.remote, undefined, true)
          continue
        }
        if (task?.status === "running" && task.agentId === agent.agentId) {
          // Another daemon's (it died, or the agent's link to it broke): the agent brings it here, the task never pending meanwhile.
          const moved = await store.tasks.handover(id, { owner: o.owner, agentId: agent.agentId })
          if (moved) {
            o.track(moved.task, agent.agentId, o.remote, undefined, true)
            await o.publish(moved.event, moved.task)
            continue
          }
        }
        const claimed = task?.status === "pending" ? await store.tasks.claim(id, { owner: o.owner, agentId: agent.agentId }) : undefined
        if (!claimed) {
          drop.push(id)
          continue
        }
        o.track(claimed.task, agent.agentId, o.remote, undefined, true)
        await o.publish(claimed.event, claimed.task)
      }
      if (!isBridge(agent)) await agentRow(agent, agent.taskIds.length > drop.length ? "busy" : "idle")
      // The agent is admitted once this hook returns; act on it after that.
      defer(() => {
        for (const id of drop) o.remote.cancel(agent.agentId, id, "the task is no longer assigned to this agent")
        o.agentState(agent.agentId, agent.taskIds.length > drop.length ? "busy" : "idle", null)
        void o.dispatch()
      })
    },

    onDisconnect(agent) {
      lost(agent, agent.taskIds, "agent_disconnected", `agent ${agent.agentId} disconnected while running the task`)
      void store.agents.markState(agent.agentId, "disconnected").catch(() => {})
    },

    onUnhealthy(agent, taskIds, reason) {
      lost(agent, taskIds, "agent_unhealthy", `agent ${agent.agentId} is unhealthy (${reason.replace("_", " ")})`)
      void store.agents.markState(agent.agentId, "unhealthy").catch(() => {})
    },

    onHealthy(agent) {
      void store.agents.markState(agent.agentId, agent.taskIds.length ? "busy" : "idle").catch(() => {})
      void o.dispatch()
    },

    onTasksLost(agent, taskIds) {
      lost(agent, taskIds, "agent_restarted", `agent ${agent.agentId} restarted and no longer runs the task`)
    },

    onProgress(agent, p) {
      o.progress(actingFor(agent), p)
    },

    async onTaskResult(agent, outcome) {
      await o.result(agent.agentId, acpOutcome(outcome), { retry: false })
    },

    async onDelegate(agent, params, signal): Promise<DelegateResult> {
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
