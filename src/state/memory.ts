import { log } from "../log"
import {
  DEFAULT_AGENT_TTL_MS,
  type AgentState,
  type AgentStateInput,
  type Channel,
  type MessageHandler,
  type StateHealth,
  type StateStore,
  type Unsubscribe,
} from "./types"

// The in-process state store: Maps with expiry times, and handler sets for
// pub/sub. Expiry is checked when read, against an injectable clock, so tests
// move time instead of waiting for it. It is also the Redis store's local
// fallback, which is why it can hand out a snapshot of what it holds.

export type Clock = () => number

type Expiring<T> = { value: T; expiresAt: number }

export type MemorySnapshot = {
  agents: { state: AgentState; ttlMs: number }[]
  sessions: { id: string; data: Record<string, unknown>; ttlMs?: number }[]
  queues: { agentId: string; taskIds: string[] }[]
}

export type MemoryStateOptions = { now?: Clock; onHandlerError?: (e: unknown, channel: Channel) => void }

/** JSON round trip: subscribers get their own copy, and what Redis could not carry fails here too. */
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T

export class MemoryState implements StateStore {
  readonly backend = "memory" as const
  private readonly now: Clock
  private readonly agents = new Map<string, Expiring<AgentState>>()
  private readonly sessions = new Map<string, Expiring<Record<string, unknown>>>()
  private readonly queues = new Map<string, string[]>()
  private readonly handlers = new Map<Channel, Set<MessageHandler>>()
  private readonly since: number
  private readonly onHandlerError: (e: unknown, channel: Channel) => void

  constructor(opts: MemoryStateOptions = {}) {
    this.now = opts.now ?? Date.now
    this.since = this.now()
    this.onHandlerError = opts.onHandlerError ?? ((e, channel) => log().warn(`a ${channel} subscriber threw:`, e))
  }

  health(): StateHealth {
    return { backend: "memory", state: "ok", events: "local", since: this.since }
  }

  onHealth(): Unsubscribe {
    return () => {} // never changes
  }

  private live<T>(map: Map<string, Expiring<T>>, key: string): T | undefined {
    const e = map.get(key)
    if (!e) return undefined
    if (e.expiresAt <= this.now()) {
      map.delete(key)
      return undefined
    }
    return e.value
  }

  async setAgent(input: AgentStateInput, ttlMs = DEFAULT_AGENT_TTL_MS): Promise<AgentState> {
    const now = this.now()
    const state: AgentState = { ...copy(input), lastHeartbeatAt: now, updatedAt: now }
    this.agents.set(state.id, { value: state, expiresAt: now + ttlMs })
    return copy(state)
  }

  async heartbeat(id: string, ttlMs = DEFAULT_AGENT_TTL_MS): Promise<boolean> {
    const state = this.live(this.agents, id)
    if (!state) return false
    const now = this.now()
    state.lastHeartbeatAt = now
    this.agents.set(id, { value: state, expiresAt: now + ttlMs })
    return true
  }

  async getAgent(id: string): Promise<AgentState | undefined> {
    const state = this.live(this.agents, id)
    return state && copy(state)
  }

  async listAgents(): Promise<AgentState[]> {
    const out: AgentState[] = []
    for (const id of [...this.agents.keys()].sort()) {
      const state = this.live(this.agents, id)
      if (state) out.push(copy(state))
    }
    return out
  }

  async removeAgent(id: string): Promise<void> {
    this.agents.delete(id)
  }

  async setSession(id: string, data: Record<string, unknown>, ttlMs?: number): Promise<void> {
    this.sessions.set(id, { value: copy(data), expiresAt: ttlMs === undefined ? Infinity : this.now() + ttlMs })
  }

  async getSession(id: string): Promise<Record<string, unknown> | undefined> {
    const data = this.live(this.sessions, id)
    return data && copy(data)
  }

  async deleteSession(id: string): Promise<void> {
    this.sessions.delete(id)
  }

  async pushTask(agentId: string, taskId: string): Promise<number> {
    const q = this.queues.get(agentId) ?? []
    q.push(taskId)
    this.queues.set(agentId, q)
    return q.length
  }

  async popTask(agentId: string): Promise<string | undefined> {
    const q = this.queues.get(agentId)
    const taskId = q?.shift()
    if (q && q.length === 0) this.queues.delete(agentId)
    return taskId
  }

  async agentTasks(agentId: string): Promise<string[]> {
    return [...(this.queues.get(agentId) ?? [])]
  }

  async removeTask(agentId: string, taskId: string): Promise<boolean> {
    const q = this.queues.get(agentId)
    const i = q?.indexOf(taskId) ?? -1
    if (!q || i < 0) return false
    q.splice(i, 1)
    if (q.length === 0) this.queues.delete(agentId)
    return true
  }

  async publish(channel: Channel, message: unknown): Promise<void> {
    this.deliver(channel, copy(message))
  }

  /** Hand a message to this process's subscribers (the Redis store calls it for what arrives from Redis). */
  deliver(channel: Channel, message: unknown): void {
    for (const handler of [...(this.handlers.get(channel) ?? [])]) {
      try {
        handler(copy(message), channel)
      } catch (e) {
        this.onHandlerError(e, channel)
      }
    }
  }

  async subscribe(channel: Channel, handler: MessageHandler): Promise<Unsubscribe> {
    const set = this.handlers.get(channel) ?? new Set()
    set.add(handler)
    this.handlers.set(channel, set)
    return () => {
      set.delete(handler)
      if (set.size === 0) this.handlers.delete(channel)
    }
  }

  /** Channels with at least one subscriber. */
  channels(): Channel[] {
    return [...this.handlers.keys()]
  }

  /** Everything live, with remaining TTLs: what the Redis store writes back after an outage. */
  snapshot(): MemorySnapshot {
    const now = this.now()
    const agents: MemorySnapshot["agents"] = []
    for (const [id, e] of this.agents) if (this.live(this.agents, id)) agents.push({ state: copy(e.value), ttlMs: e.expiresAt - now })
    const sessions: MemorySnapshot["sessions"] = []
    for (const [id, e] of this.sessions) {
      if (this.live(this.sessions, id)) sessions.push({ id, data: copy(e.value), ttlMs: e.expiresAt === Infinity ? undefined : e.expiresAt - now })
    }
    const queues = [...this.queues].map(([agentId, taskIds]) => ({ agentId, taskIds: [...taskIds] }))
    return { agents, sessions, queues }
  }

  async close(): Promise<void> {
    this.handlers.clear()
  }
}
