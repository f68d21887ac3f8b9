// One genuine Claude Code session behind a small interface. Two drivers
// implement it: `stream` (claude -p with stream-json on stdin/stdout, the
// default) and `pty` (the interactive UI in a pseudo-terminal, turn ends from
// hooks). The pool builds on this file only.
import type { PermissionsConfig } from "./permissions"
import type { ProcessHost } from "./process"

export type DriverName = "stream" | "pty"

/**
 * starting: process spawned, not ready yet; idle: ready for a prompt;
 * busy: a turn is running; waiting: Claude Code asked for input (pty
 * Notification hook); stopping / stopped: stop() was called;
 * crashed: the process exited without being asked to.
 */
export type AgentStatus = "starting" | "idle" | "busy" | "waiting" | "stopping" | "stopped" | "crashed"

export type TokenUsage = {
  inputTokens: number
  outputTokens: number
  cacheCreationInputTokens: number
  cacheReadInputTokens: number
}

export type PermissionDenial = { toolName: string; toolUseId: string; input: unknown }

/** How one turn (one prompt) ended. */
export type TurnResult = {
  sessionId: string
  /** The final assistant text of the turn. */
  text: string
  /** false when Claude Code reported an error (is_error) or the turn was interrupted. */
  ok: boolean
  interrupted: boolean
  /** Claude Code's own word for the outcome: success, error_max_turns, interrupted, ... */
  subtype: string
  usage: TokenUsage
  /** USD for this turn; undefined when the driver cannot know it (pty). */
  costUsd: number | undefined
  durationMs: number
  durationApiMs: number | undefined
  /** Model round trips in the turn. */
  numTurns: number | undefined
  permissionDenials: PermissionDenial[]
  /** What Claude Code said went wrong, when it did. */
  errors: string[]
  /** The model endpoint refused the request (Claude Code's `api_error_status`, `api_error_type`; its text is `text`). */
  apiError?: { status: number; type: string }
}

export type AgentEvent =
  | { type: "status"; status: AgentStatus }
  | { type: "init"; sessionId: string; model: string; tools: string[]; mcpServers: { name: string; status: string }[] }
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | { type: "tool_result"; toolUseId: string; text: string; isError: boolean }
  | { type: "turn_end"; result: TurnResult }
  /** Claude Code is waiting for a person (pty: Notification hook). */
  | { type: "waiting"; message: string }
  /** Raw terminal output (pty). */
  | { type: "output"; data: string }
  | { type: "hook"; name: string; payload: Record<string, unknown> }
  | { type: "exit"; code: number | null; signal: string | null; crashed: boolean; lastOutput: string }

export type Unsubscribe = () => void

/** A prompt in flight: its own events as they happen, and how it ended. */
export type Turn = {
  events: AsyncIterable<AgentEvent>
  /** Resolves at the turn's end (also when interrupted); rejects if the agent dies or stops first. */
  done: Promise<TurnResult>
}

export interface Agent {
  readonly id: string
  readonly role: string
  readonly driver: DriverName
  /** Pid of the claude process (undefined before start). */
  readonly pid: number | undefined
  /** The exact command line the process was started with. */
  readonly argv: readonly string[]
  status(): AgentStatus
  /** Known from the start: generated and passed with --session-id, or the one resumed. */
  sessionId(): string
  /** The last thing the agent said (or, for the pty, the tail of the screen); kept after a crash. */
  lastOutput(): string
  /** Spawns the process; resolves when it accepts a prompt, rejects (AgentStartError) with its output if it does not. */
  start(): Promise<void>
  /** Sends a prompt; one turn at a time (AgentBusyError otherwise). */
  send(prompt: string): Turn
  /** Cuts the running turn short; its `done` resolves with interrupted: true. */
  interrupt(): Promise<void>
  /** Ends the process: gently, then SIGKILL after the stop timeout. */
  stop(): Promise<void>
  /** Every event of the agent, for as long as the listener is registered. */
  subscribe(listener: (e: AgentEvent) => void): Unsubscribe
}

/** Where Claude Code's hooks post to (pty driver). The token travels in an env var, never on the command line. */
export type HookTarget = { url: string; token?: string }

export type AgentOptions = {
  id: string
  role: string
  driver?: DriverName
  /** The working directory (the shared workspace or the agent's worktree). */
  cwd: string
  /** A private directory for the agent: Claude Code's config home, settings, MCP config. */
  stateDir: string
  /** The claude executable. Default: `claude` on PATH. */
  claudePath?: string
  model?: string
  /** Appended to Claude Code's system prompt (the role prompt). */
  appendSystemPrompt?: string
  permissions?: PermissionsConfig
  /** MCP servers for the agent (see mcp-config.ts); omitted: none, and --strict-mcp-config keeps user ones out. */
  mcpServers?: Record<string, McpServerSpec>
  /** Resume this Claude Code session instead of starting a new one. */
  resumeSessionId?: string
  /** Environment added to (and overriding) the inherited one. */
  env?: Record<string, string>
  /** pty: where hooks post. Required for the pty driver. */
  hooks?: HookTarget
  /** pty: terminal size and how much output to keep for late viewers. */
  terminal?: { cols?: number; rows?: number; bufferSize?: number }
  readyTimeoutMs?: number
  stopTimeoutMs?: number
  /** Where the process runs; default: this host. A container host (agents.sandbox = "docker") brings its own claude, environment and MCP config. */
  host?: ProcessHost
  /** Warnings (e.g. dangerous permissions) go here; default: the CLI logger's warn. */
  warn?: (message: string) => void
}

export type McpServerSpec = { command: string; args?: string[]; env?: Record<string, string> }

/** A viewer of a pty agent: gets the buffered past once, then every new chunk. */
export type Attachment = { replay: string; detach: Unsubscribe }

/** The pty driver's extra surface: a person can watch, type and resize; the daemon delivers hooks. */
export interface TerminalAgent extends Agent {
  readonly driver: "pty"
  /** Deliver one Claude Code hook input (the daemon's hook route calls this). */
  hook(payload: unknown): Promise<void>
  attach(viewer: (data: string) => void): Attachment
  /** Raw keyboard input from a person who took over. */
  write(data: string): void
  resize(cols: number, rows: number): void
  size(): { cols: number; rows: number }
}

export function isTerminalAgent(a: Agent): a is TerminalAgent {
  return a.driver === "pty"
}
