// The agent pool's public surface: what the daemon's routes, the orchestrator
// and `cca worker` call. One pool per process; it owns genuine Claude Code
// processes (src/agent), keeps each one alive (restart with backoff, a circuit
// per role), mirrors their state to the state store and the agents table, and
// runs one prompt at a time on each. See src/pool/README.md.
import type { DriverName, TurnResult } from "../agent/types"

export type { DriverName, TurnResult }

/**
 * starting: spawned, not ready yet; idle: takes a task; busy: running a task or
 * a direct message; waiting: Claude Code asked a person (pty); restarting: it
 * crashed and comes back after its backoff (or when its role's circuit
 * closes); stopping / stopped: stop() was called.
 */
export type PoolAgentStatus = "starting" | "idle" | "busy" | "waiting" | "restarting" | "stopping" | "stopped"

/** One agent as the pool sees it (also the JSON of GET /api/v1/agents/:id for local agents). */
export type PoolAgent = {
  id: string
  role: string
  driver: DriverName
  status: PoolAgentStatus
  /** Pid of the current claude process; null while restarting or stopped. */
  pid: number | null
  sessionId: string | null
  /** The task it runs now (null for a direct message or when idle). */
  taskId: string | null
  /** Restarts after crashes since it was spawned. */
  restarts: number
  cwd: string
  /** ISO times. */
  spawnedAt: string
  readyAt: string | null
  /** Set while restarting: when the next start is due. */
  restartAt: string | null
  /** The tail of what the agent said or printed last (kept after a crash). */
  lastOutput: string
  /** The agent's container (agents.sandbox = "docker"); absent for an agent on this host. */
  container?: string
}

export type RoleHealth = {
  role: string
  /** degraded: the role's circuit is open (or half open) after repeated crashes. */
  state: "ok" | "degraded"
  circuit: "closed" | "open" | "half-open"
  /** Crashes within the circuit window. */
  recentCrashes: number
  /** While open: when restarts and spawns of the role are tried again (ISO). */
  retryAt: string | null
  reason: string | null
}

export type SpawnRequest = {
  role: string
  /** Default: agents.driver from config (stream). */
  driver?: DriverName
  /** Default: `<role>-<8 hex>`. Lowercase letters, digits, - and _. */
  id?: string
}

export type RunRequest = {
  /** The task's id (null/undefined for a direct message). */
  taskId?: string | null
  prompt: string
  /** The turn is interrupted and run() rejects with TurnTimeoutError after this long. 0 or undefined: no limit. */
  timeoutMs?: number
}

/** Events of the pool. `crashed` carries the task the agent was running, if any: the orchestrator requeues it. */
export type PoolEvent =
  | { type: "ready"; agentId: string; role: string; restarted: boolean }
  | { type: "busy"; agentId: string; role: string; taskId: string | null }
  | { type: "idle"; agentId: string; role: string }
  | { type: "crashed"; agentId: string; role: string; taskId: string | null; code: number | null; signal: string | null; lastOutput: string; restartInMs: number }
  | { type: "restarted"; agentId: string; role: string; restarts: number }
  | { type: "degraded"; role: string; reason: string; retryAt: string }
  | { type: "recovered"; role: string }
  | { type: "stopped"; agentId: string; role: string }

export type PoolEventType = PoolEvent["type"]
export type PoolListener<T extends PoolEventType = PoolEventType> = (e: Extract<PoolEvent, { type: T }>) => void
export type Unsubscribe = () => void

/** One line of an agent's bounded log. */
export type LogEntry = {
  seq: number
  /** ISO time. */
  at: string
  kind: "lifecycle" | "prompt" | "text" | "tool_use" | "tool_result" | "turn_end" | "waiting" | "hook" | "error"
  text: string
  taskId?: string | null
}

/** What an attached viewer of a pty agent gets besides the terminal's bytes. */
export type AttachNotice =
  | { type: "exit"; code: number | null; signal: string | null; crashed: boolean }
  | { type: "restarted"; cols: number; rows: number }
  | { type: "stopped" }

export type AttachViewer = {
  /** Terminal output, as the pseudo-terminal produced it. */
  data(chunk: string): void
  notice(n: AttachNotice): void
}

/** A person attached to a pty agent: they see the replay then live output, can type and resize. Follows restarts. */
export type PoolAttachment = {
  replay: string
  cols: number
  rows: number
  write(data: string): void
  resize(cols: number, rows: number): void
  detach(): void
}

export interface AgentPool {
  /** Starts an agent; resolves when it accepts a prompt. PoolFullError (409), RoleDegradedError (503), AgentStartError (502, details.lastOutput). */
  spawn(req: SpawnRequest): Promise<PoolAgent>
  /** Live agents (stopped ones are left out), oldest first. */
  list(filter?: { role?: string }): PoolAgent[]
  /** A live or recently stopped agent. */
  get(id: string): PoolAgent | undefined
  /** Live agents (every one not stopped, starting and restarting included) against agents.max_agents. */
  capacity(): { agents: number; max: number }
  /** Agents ready for a task now, optionally of one role. */
  idle(role?: string): PoolAgent[]
  /** Whether spawn({ role }) would be refused before starting anything, and why. */
  canSpawn(role: string): { ok: true } | { ok: false; reason: string; code: "pool_full" | "role_degraded" | "unknown_role" }
  /**
   * Runs one prompt as a task on an idle agent. Resolves with the turn's
   * result (ok: false when Claude Code reported an error). Rejects with
   * AgentBusyError (not idle), AgentCrashedError (died mid-task; the
   * `crashed` event carries the task id too), AgentStoppedError (stopped),
   * TurnTimeoutError, or CancelledError when `signal` aborts (the turn is
   * interrupted first).
   */
  run(agentId: string, req: RunRequest, signal?: AbortSignal): Promise<TurnResult>
  /**
   * A broadcast: kept in the inbox of each live agent (of `role`, when given; not `from`) and put
   * in front of its next prompt, as a `<cca-broadcasts>` block. Returns the agents that got it.
   */
  deliver(b: { from: string; message: string; role?: string; to?: string }): string[]
  /** A direct message outside any task: run() without a task id. */
  send(agentId: string, message: string, opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<TurnResult>
  /** Stops the agent (its running turn is interrupted; run() rejects with AgentStoppedError). */
  stop(id: string): Promise<PoolAgent>
  logs(id: string, opts?: { after?: number; limit?: number }): { items: LogEntry[]; next: number }
  /** Each log entry of the agent as it is added (NotFoundError for an unknown agent). */
  watchLogs(id: string, fn: (e: LogEntry) => void): Unsubscribe
  /** pty agents only (ConflictError otherwise). */
  attach(id: string, viewer: AttachViewer): PoolAttachment
  /** A Claude Code hook input for a pty agent (the daemon's hook route). */
  hook(id: string, payload: unknown): Promise<void>
  roles(): RoleHealth[]
  on<T extends PoolEventType>(type: T | "*", listener: PoolListener<T>): Unsubscribe
  /** Resolves once the state writes issued so far (for one agent, or all) have landed in the state store and agents table. */
  flush(id?: string): Promise<void>
  /** Stops every agent (SIGINT, then kill after the stop timeout). */
  close(): Promise<void>
}
