import type { Timer } from "../acp/clock"
import type { Agent, DriverName, TurnResult, Unsubscribe } from "../agent/types"
import { AgentLog } from "./agent-log"
import type { AttachViewer, PoolAgent, PoolAgentStatus } from "./types"

// One place in the pool: an agent id with its role, working directory, log
// and viewers, and the Claude Code process currently behind it (a new one
// after every restart). The pool moves it through its phases; its public
// status is derived from the phase and from what the process reports.

export type Phase = "starting" | "ready" | "restarting" | "stopping" | "stopped"

export class Slot {
  phase: Phase = "starting"
  agent: Agent | undefined
  off: Unsubscribe | undefined
  /** A run() (task or direct message) holds the agent. */
  running = false
  /** The process has a turn open (also one a person typed into a pty). */
  agentTurn = false
  agentWaiting = false
  taskId: string | null = null
  /** Broadcasts not yet given to the agent (in front of its next prompt); the newest INBOX_LIMIT. */
  inbox: string[] = []
  restarts = 0
  /** Consecutive crashes, for the backoff. */
  streak = 0
  readonly spawnedAt: number
  readyAt: number | null = null
  restartAt: number | null = null
  restartTimer: Timer | null = null
  stopping = false
  lastOutput = ""
  /** Status last written to the state store and announced. */
  announced: PoolAgentStatus | undefined
  /** Cuts the run() in progress short with this error (stop, timeout, cancel). */
  cut: ((make: (result?: TurnResult) => Error) => void) | undefined
  readonly viewers = new Set<AttachViewer>()
  size: { cols: number; rows: number } = { cols: 120, rows: 40 }
  /** State writes of this agent, in order. */
  writes: Promise<void> = Promise.resolve()
  rolePrompt = ""
  /** The container of the current process (agents.sandbox = "docker"). */
  container: string | undefined
  readonly log: AgentLog

  constructor(
    readonly id: string,
    readonly role: string,
    readonly driver: DriverName,
    public cwd: string,
    readonly stateDir: string,
    logEntries: number,
    now: () => number,
  ) {
    this.spawnedAt = now()
    this.log = new AgentLog(logEntries, now)
  }

  status(): PoolAgentStatus {
    if (this.phase === "stopped") return "stopped"
    if (this.phase === "stopping" || this.stopping) return "stopping"
    if (this.phase !== "ready") return this.phase
    if (this.running || this.agentTurn) return this.agentWaiting ? "waiting" : "busy"
    return "idle"
  }

  info(): PoolAgent {
    const live = this.phase === "ready" || this.phase === "starting" || this.phase === "stopping"
    const output = this.agent?.lastOutput() || this.lastOutput
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString())
    return {
      id: this.id,
      role: this.role,
      driver: this.driver,
      status: this.status(),
      pid: live ? (this.agent?.pid ?? null) : null,
      sessionId: this.agent?.sessionId() || null,
      taskId: this.taskId,
      restarts: this.restarts,
      cwd: this.cwd,
      spawnedAt: new Date(this.spawnedAt).toISOString(),
      readyAt: iso(this.readyAt),
      restartAt: iso(this.restartAt),
      lastOutput: output.length > 500 ? output.slice(-500) : output,
      ...(this.container ? { container: this.container } : {}),
    }
  }
}
