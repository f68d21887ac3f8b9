// Live agent state, heartbeats, sessions, per-agent task queues and pub/sub,
// behind one interface with two implementations: in-process (memory.ts, the
// default) and Redis (redis.ts, when redis.url is set, so several daemons see
// one picture). What must survive a restart lives in the SQL store instead.

/** An agent's live state. `lastHeartbeatAt` and `updatedAt` are ms since the epoch. */
export type AgentState = {
  id: string
  role: string
  status: string
  taskId?: string | null
  daemonId?: string
  pid?: number
  metadata?: Record<string, unknown>
  lastHeartbeatAt: number
  updatedAt: number
}

export type AgentStateInput = Omit<AgentState, "lastHeartbeatAt" | "updatedAt">

/** Pub/sub channels. Other `cca:*` names work too. */
export const Channels = {
  broadcast: "cca:broadcast",
  status: "cca:status",
  coord: "cca:coord",
} as const
export type Channel = `cca:${string}`

/** Redis key names (also the names the in-process store reports in errors). */
export const Keys = {
  agentState: (id: string) => `cca:agent:${id}:state`,
  session: (id: string) => `cca:session:${id}`,
  agentTasks: (agentId: string) => `cca:tasks:${agentId}`,
  /** Index of agent ids with state, for listing without SCAN. */
  agentIndex: "cca:agents",
} as const

/** Heartbeats come every 30 s; three missed and the state expires. */
export const DEFAULT_AGENT_TTL_MS = 90_000

/** Where this daemon's published messages go: Redis, the database (PostgreSQL NOTIFY), or this process only. */
export type EventsPath = "redis" | "database" | "local"

export type StateHealth = {
  backend: "memory" | "redis"
  /** degraded: Redis is unreachable and this daemon runs on its local fallback. */
  state: "ok" | "degraded"
  /** How published messages (task events, broadcasts) reach the other daemons now. */
  events: EventsPath
  detail?: string
  /** ms since the epoch of the last change of state. */
  since: number
}

export type Unsubscribe = () => void
export type MessageHandler = (message: unknown, channel: Channel) => void

export interface StateStore {
  readonly backend: "memory" | "redis"
  health(): StateHealth
  /** Called on every change of health (ok <-> degraded). */
  onHealth(fn: (h: StateHealth) => void): Unsubscribe

  /** Write an agent's state; it expires `ttlMs` after the last write or heartbeat. */
  setAgent(state: AgentStateInput, ttlMs?: number): Promise<AgentState>
  /** Refresh lastHeartbeatAt and the TTL. False when the agent has no live state (expired or never set). */
  heartbeat(id: string, ttlMs?: number): Promise<boolean>
  getAgent(id: string): Promise<AgentState | undefined>
  /** Every agent with live state, ordered by id. */
  listAgents(): Promise<AgentState[]>
  removeAgent(id: string): Promise<void>

  setSession(id: string, data: Record<string, unknown>, ttlMs?: number): Promise<void>
  getSession(id: string): Promise<Record<string, unknown> | undefined>
  deleteSession(id: string): Promise<void>

  /** Append to an agent's task queue; returns its new length. */
  pushTask(agentId: string, taskId: string): Promise<number>
  /** Take the oldest task id off an agent's queue. */
  popTask(agentId: string): Promise<string | undefined>
  agentTasks(agentId: string): Promise<string[]>
  removeTask(agentId: string, taskId: string): Promise<boolean>

  /** Deliver a JSON-serialisable message to every subscriber of the channel (in every daemon on Redis). */
  publish(channel: Channel, message: unknown): Promise<void>
  subscribe(channel: Channel, handler: MessageHandler): Promise<Unsubscribe>
  /** Also send on the database while another daemon of the cluster publishes there (pubsub.ts). No-op without a database wire. */
  bridge?(on: boolean): void

  close(): Promise<void>
}
