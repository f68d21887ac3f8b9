import type { Logger } from "../log"
import type { Clock } from "./clock"
import type { Connection } from "./connection"
import { RpcError } from "./errors"
import {
  CloseCode,
  ErrorCode,
  ServerMethods,
  type AgentMessageNotice,
  type BroadcastNotice,
  type BroadcastParams,
  type DelegateParams,
  type DelegateResult,
  type TaskOutcome,
  type TaskProgressParams,
} from "./protocol"
import type { AgentInfo, AgentRegistry, UnhealthyReason } from "./registry"
import { validate } from "./rpc"

// What the server does with each method an agent calls. The server itself is
// transport, registry and routing; what a method means for tasks is decided
// by the host's hooks (the daemon plugs in its orchestrator here).

type Awaitable<T> = T | Promise<T>

export type AcpHooks = {
  /** Before an agent is admitted (its `taskIds` are the ones it says it still runs). Throw to refuse. */
  onRegister?(agent: AgentInfo): Awaitable<void>
  /** Heartbeats missed for `missedHeartbeats` intervals (connected or not): requeue `taskIds`. */
  onUnhealthy?(agent: AgentInfo, taskIds: string[], reason: UnhealthyReason): void
  /** An unhealthy but still connected agent sent a heartbeat again. */
  onHealthy?(agent: AgentInfo): void
  /** The agent re-registered without tasks the server still tracked for it (it restarted): requeue them. */
  onTasksLost?(agent: AgentInfo, taskIds: string[]): void
  /** The agent's connection closed. Its tasks stay with it until it misses its heartbeats. */
  onDisconnect?(agent: AgentInfo, code: number, reason: string): void
  onProgress?(agent: AgentInfo, progress: TaskProgressParams): void
  /** Record the outcome; throw to answer the agent with an error (the task stays tracked, the agent may retry). */
  onTaskResult?(agent: AgentInfo, outcome: TaskOutcome): Awaitable<void>
  /** Create a child task; with `params.wait`, answer only with its outcome. `signal` aborts when the caller disconnects. */
  onDelegate?(agent: AgentInfo, params: DelegateParams, signal: AbortSignal): Promise<DelegateResult>
  /** Observe a routed message (it has already been delivered). */
  onMessage?(from: AgentInfo, message: AgentMessageNotice): void
  /** Observe an agent's broadcast (e.g. to relay it to other daemons). */
  onBroadcast?(from: AgentInfo, params: BroadcastParams): void
  /** Deliver an agent's broadcast to agents that are not ACP connections (the daemon's pool); how many got it. */
  deliverBroadcast?(from: AgentInfo, params: BroadcastParams): number
}

/** What the method handlers need from the server. */
export type ServerCore = {
  registry: AgentRegistry<Connection>
  hooks: AcpHooks
  clock: Clock
  log: Logger
  heartbeatIntervalMs: number
  maxFrameBytes: number
  startedAt: number
  fanout(notice: BroadcastNotice, except?: string): number
}

type Handler = (core: ServerCore, conn: Connection, params: unknown) => unknown

/** Runs a host hook whose failure must not take the connection down; logs it instead. */
export function safely(log: Logger, hook: string, fn: () => unknown): void {
  try {
    const r = fn()
    if (r instanceof Promise) r.catch((e: unknown) => log.error(`acp: hook ${hook} failed:`, e))
  } catch (e) {
    log.error(`acp: hook ${hook} failed:`, e)
  }
}

function registered(core: ServerCore, conn: Connection): AgentInfo {
  const agent = conn.agentId === null ? undefined : core.registry.get(conn.agentId)
  if (!agent) throw new RpcError(ErrorCode.notRegistered, "Not registered: call agent.register on this connection first")
  return agent
}

function unavailable(what: string): RpcError {
  return new RpcError(ErrorCode.unavailable, `${what} is not available on this server`)
}

export const requestHandlers: Record<string, Handler> = {
  async "agent.register"(core, conn, raw) {
    const p = validate(ServerMethods["agent.register"].params, raw)
    if (conn.agentId !== null && conn.agentId !== p.agentId) {
      throw new RpcError(ErrorCode.invalidRequest, `This connection is registered as ${conn.agentId}; open one connection per agent`)
    }
    const holder = core.registry.principalOf(p.agentId)
    if (holder?.conn && holder.conn !== conn && holder.principalId !== conn.principal.id) {
      throw new RpcError(ErrorCode.agentIdInUse, `Agent id ${p.agentId} is held by another key's live connection; pick another agent id`)
    }
    const now = core.clock.now()
    const candidate: AgentInfo = {
      agentId: p.agentId,
      role: p.role,
      capabilities: p.capabilities,
      host: p.host,
      version: p.version,
      principalId: conn.principal.id,
      health: "healthy",
      connected: true,
      registeredAt: now,
      lastHeartbeatAt: now,
      taskIds: p.taskIds,
    }
    await core.hooks.onRegister?.(candidate)
    if (conn.closed) throw new RpcError(ErrorCode.internalError, "The connection closed during registration")
    const { agent, replaced, lost } = core.registry.register(p, conn.principal.id, conn, core.clock.now())
    conn.agentId = p.agentId
    core.log.info(`acp: agent ${p.agentId} registered (role ${p.role}${p.host ? `, host ${p.host}` : ""}, ${p.taskIds.length} running task(s)) from ${conn.remote}`)
    if (replaced) {
      replaced.agentId = null
      replaced.close(CloseCode.superseded, "superseded: the agent registered on a newer connection")
    }
    if (lost.length > 0) safely(core.log, "onTasksLost", () => core.hooks.onTasksLost?.(agent, lost))
    return { agentId: p.agentId, heartbeatIntervalMs: core.heartbeatIntervalMs, maxFrameBytes: core.maxFrameBytes, serverTime: core.clock.now() }
  },

  heartbeat(core, conn, raw) {
    const p = validate(ServerMethods.heartbeat.params, raw)
    const agent = registered(core, conn)
    if (core.registry.heartbeat(agent.agentId, core.clock.now(), p.status, p.load)) {
      const back = core.registry.get(agent.agentId)!
      core.log.info(`acp: agent ${agent.agentId} is healthy again`)
      safely(core.log, "onHealthy", () => core.hooks.onHealthy?.(back))
    }
    return { serverTime: core.clock.now() }
  },

  async task_result(core, conn, raw) {
    const p = validate(ServerMethods.task_result.params, raw)
    const agent = registered(core, conn)
    if (!core.hooks.onTaskResult) throw unavailable("task_result")
    await core.hooks.onTaskResult(agent, p)
    core.registry.untrack(agent.agentId, p.taskId)
    return { recorded: true }
  },

  broadcast(core, conn, raw) {
    const p = validate(ServerMethods.broadcast.params, raw)
    const agent = registered(core, conn)
    const recipients = core.fanout({ from: agent.agentId, message: p.message, role: p.role, data: p.data }, agent.agentId)
    let more = 0
    safely(core.log, "deliverBroadcast", () => void (more = core.hooks.deliverBroadcast?.(agent, p) ?? 0))
    safely(core.log, "onBroadcast", () => core.hooks.onBroadcast?.(agent, p))
    return { recipients: recipients + more }
  },

  health_check(core, _conn, raw) {
    validate(ServerMethods.health_check.params, raw)
    const now = core.clock.now()
    return { status: "ok", serverTime: now, uptimeMs: Math.max(0, now - core.startedAt), agents: core.registry.size }
  },

  "agent.message"(core, conn, raw) {
    const p = validate(ServerMethods["agent.message"].params, raw)
    const from = registered(core, conn)
    const target = core.registry.connectionOf(p.to)
    if (!target) throw new RpcError(ErrorCode.agentNotFound, `Agent ${p.to} is not connected`, { agentId: p.to })
    const notice: AgentMessageNotice = { from: from.agentId, to: p.to, message: p.message, data: p.data }
    const delivered = target.notify("agent.message", notice)
    if (delivered) safely(core.log, "onMessage", () => core.hooks.onMessage?.(from, notice))
    return { delivered }
  },

  async "agent.delegate"(core, conn, raw) {
    const p = validate(ServerMethods["agent.delegate"].params, raw)
    const agent = registered(core, conn)
    if (!core.hooks.onDelegate) throw unavailable("agent.delegate")
    return await core.hooks.onDelegate(agent, p, conn.signal)
  },
}

export const notificationHandlers: Record<string, Handler> = {
  "task.progress"(core, conn, raw) {
    const p = validate(ServerMethods["task.progress"].params, raw)
    const agent = registered(core, conn)
    safely(core.log, "onProgress", () => core.hooks.onProgress?.(agent, p))
  },
  // A heartbeat may also come as a notification (no answer wanted).
  heartbeat(core, conn, raw) {
    requestHandlers.heartbeat!(core, conn, raw)
  },
}
