import type { AgentRegisterParams } from "./protocol"

// Which agents are registered, on which connection, with which tasks, and
// whether their heartbeats are on time. Pure bookkeeping driven by the
// server: no sockets, no timers; `sweep(now)` is called by the server's clock.

export type Health = "healthy" | "unhealthy"
export type UnhealthyReason = "missed_heartbeats" | "disconnected"

/** A snapshot of one agent, as hooks and `AcpServer.agents()` see it. */
export type AgentInfo = {
  agentId: string
  role: string
  capabilities: string[]
  host?: string
  version?: string
  principalId: string
  health: Health
  connected: boolean
  registeredAt: number
  lastHeartbeatAt: number
  status?: "idle" | "busy"
  load?: number
  taskIds: string[]
}

type AgentRecord<C> = Omit<AgentInfo, "taskIds" | "connected"> & { taskIds: Set<string>; conn: C | null }

export type Transition = { agent: AgentInfo; taskIds: string[]; reason: UnhealthyReason }

export class AgentRegistry<C> {
  private agents = new Map<string, AgentRecord<C>>()

  /** An agent is unhealthy once `missed` heartbeat intervals pass without one. */
  constructor(
    private intervalMs: number,
    private missed: number,
  ) {}

  get size(): number {
    return this.agents.size
  }

  get(agentId: string): AgentInfo | undefined {
    const r = this.agents.get(agentId)
    return r && info(r)
  }

  connectionOf(agentId: string): C | null {
    return this.agents.get(agentId)?.conn ?? null
  }

  principalOf(agentId: string): { principalId: string; conn: C | null } | undefined {
    const r = this.agents.get(agentId)
    return r && { principalId: r.principalId, conn: r.conn }
  }

  /** Live connections of registered agents, optionally of one role. */
  *connections(role?: string): Generator<[string, C]> {
    for (const r of this.agents.values()) if (r.conn !== null && (role === undefined || r.role === role)) yield [r.agentId, r.conn]
  }

  all(): AgentInfo[] {
    return [...this.agents.values()].map(info)
  }

  /**
   * Registers (or re-registers) an agent on `conn`. The tasks it declares are
   * authoritative: ones the server tracked but the agent no longer runs (it
   * restarted) come back as `lost`. Returns the connection it replaces, if any.
   */
  register(p: AgentRegisterParams, principalId: string, conn: C, now: number): { agent: AgentInfo; replaced: C | null; lost: string[] } {
    const prev = this.agents.get(p.agentId)
    const taskIds = new Set(p.taskIds ?? [])
    const lost = [...(prev?.taskIds ?? [])].filter((t) => !taskIds.has(t))
    const r: AgentRecord<C> = {
      agentId: p.agentId,
      role: p.role,
      capabilities: p.capabilities ?? [],
      host: p.host,
      version: p.version,
      principalId,
      health: "healthy",
      registeredAt: now,
      lastHeartbeatAt: now,
      taskIds,
      conn,
    }
    this.agents.set(p.agentId, r)
    const replaced = prev?.conn && prev.conn !== conn ? prev.conn : null
    return { agent: info(r), replaced, lost }
  }

  /** Records a heartbeat; true when it brings an unhealthy agent back. */
  heartbeat(agentId: string, now: number, status?: "idle" | "busy", load?: number): boolean {
    const r = this.agents.get(agentId)
    if (!r) return false
    r.lastHeartbeatAt = now
    if (status !== undefined) r.status = status
    if (load !== undefined) r.load = load
    if (r.health === "healthy") return false
    r.health = "healthy"
    return true
  }

  track(agentId: string, taskId: string): void {
    this.agents.get(agentId)?.taskIds.add(taskId)
  }

  untrack(agentId: string, taskId: string): boolean {
    return this.agents.get(agentId)?.taskIds.delete(taskId) ?? false
  }

  /** The connection went away. The agent keeps its tasks until it misses its heartbeats, so a reconnect can resume. */
  detach(agentId: string, conn: C): AgentInfo | undefined {
    const r = this.agents.get(agentId)
    if (!r || r.conn !== conn) return undefined
    r.conn = null
    if (r.health === "unhealthy") this.agents.delete(agentId)
    return info(r)
  }

  /** Marks overdue agents unhealthy and hands back their tasks; disconnected ones are forgotten. */
  sweep(now: number): Transition[] {
    const out: Transition[] = []
    const deadline = this.intervalMs * this.missed
    for (const r of this.agents.values()) {
      if (r.health !== "healthy" || now - r.lastHeartbeatAt < deadline) continue
      r.health = "unhealthy"
      const taskIds = [...r.taskIds]
      r.taskIds.clear()
      const reason: UnhealthyReason = r.conn === null ? "disconnected" : "missed_heartbeats"
      if (r.conn === null) this.agents.delete(r.agentId)
      out.push({ agent: info(r), taskIds, reason })
    }
    return out
  }

  remove(agentId: string): void {
    this.agents.delete(agentId)
  }
}

function info<C>(r: AgentRecord<C>): AgentInfo {
  const { conn, taskIds, ...rest } = r
  return { ...rest, connected: conn !== null, taskIds: [...taskIds] }
}
