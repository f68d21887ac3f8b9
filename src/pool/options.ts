import type Docker from "dockerode"
import { join } from "node:path"
import type { Clock } from "../acp/clock"
import type { PermissionsConfig } from "../agent/permissions"
import type { DriverName } from "../agent/types"
import type { CcaConfig } from "../config/schema"
import type { Logger } from "../log"
import { paths } from "../paths"
import type { StateStore } from "../state/types"
import type { AgentRepo } from "../store/agents"
import type { CircuitOptions } from "./circuit"

// Everything the pool needs, as plain values and injected parts. The daemon
// and `cca worker` build it from cca.toml with poolOptions(); tests set what
// they need (the claude binary, the model server's environment, a clock).

export type SandboxMode = "none" | "docker"

/** Whether agents of `role` run in a governed container. */
export function sandboxOf(o: Pick<PoolOptions, "sandbox" | "sandboxRoles">, role: string): SandboxMode {
  return o.sandboxRoles?.[role] ?? o.sandbox ?? "none"
}

/** How an agent's MCP server reaches the daemon. Asked at every start: the daemon knows its ports only once bound. */
export type PoolLink = { daemonUrl?: string; acpUrl?: string; apiKey?: string }

export type PoolOptions = {
  maxAgents: number
  claudePath: string
  model?: string
  driver: DriverName
  /** Where agents work (the shared workspace, or the repository their worktrees come from); empty: each agent gets its own directory under the data dir. */
  workspace: string
  worktrees: boolean
  worktreesDir?: string
  /** Each agent's private directory is `<stateRoot>/<id>` (its Claude Code home, MCP config, settings). */
  stateRoot: string
  rolesDir?: string
  /** Where this host's agent processes are listed while they run (the daemon's run dir), for the next daemon to reap (src/agent/reaper.ts). */
  pidDir?: string
  readyTimeoutMs: number
  stopTimeoutMs: number
  restartBaseMs: number
  restartMaxMs: number
  /** An agent that stayed up this long starts again from restartBaseMs after a crash. */
  stableMs: number
  circuit: CircuitOptions
  logEntries: number
  terminalBufferBytes: number
  permissions: PermissionsConfig
  /** agents.sandbox: "docker" runs each agent's claude in a governed container (src/pool/sandbox.ts). */
  sandbox?: SandboxMode
  /** agents.sandbox_roles: per role, instead of `sandbox`. */
  sandboxRoles?: Record<string, SandboxMode>
  /** `[agents] team`, `org`, `image`, `sandbox_mount_claude` (empty strings: the user's scc settings). */
  sandboxTeam?: string
  sandboxOrg?: string
  sandboxImage?: string
  sandboxMountClaude?: boolean
  /** The container engine for sandboxed agents; default: the one `scc start` finds. */
  engine?: () => Promise<Docker>
  /** Added to every agent's environment (e.g. the model endpoint). */
  env?: Record<string, string>
  link?: () => PoolLink | undefined
  /** Where pty agents' hooks post; without it the pty driver is refused. */
  hookUrl?: (agentId: string) => string
  /** The command that runs this program (for `mcp --agent ID`); default: this binary; null: no MCP server. */
  mcpCommand?: string[] | null
  /** The daemon (or worker) that supervises the agents, as written to the state store and agents table. */
  owner?: string
  state?: StateStore
  agents?: AgentRepo
  clock?: Clock
  /** How often live agents' heartbeats are written (state store TTL refresh, agents.last_heartbeat_at). */
  heartbeatMs?: number
  log?: Logger
}

export function permissionsFromConfig(p: CcaConfig["agents"]["permissions"]): PermissionsConfig {
  const roles: NonNullable<PermissionsConfig["roles"]> = {}
  for (const [role, r] of Object.entries(p.roles)) roles[role] = { ...r }
  return { mode: p.mode, allowed_tools: p.allowed_tools, disallowed_tools: p.disallowed_tools, allow_network: p.allow_network, roles }
}

/** The pool's options from cca.toml; the caller adds link, hooks, store and state. */
export function poolOptions(config: CcaConfig, extra: Partial<PoolOptions> = {}): PoolOptions {
  const a = config.agents
  return {
    maxAgents: a.max_agents,
    claudePath: a.claude_path,
    model: a.model || undefined,
    driver: a.driver,
    workspace: a.workspace, // empty: each agent its own workdir under the data dir (agent/workdir.ts)
    worktrees: a.worktrees,
    stateRoot: join(paths.ccaDataDir(), "agents"),
    readyTimeoutMs: a.spawn_timeout_s * 1000,
    stopTimeoutMs: a.stop_timeout_s * 1000,
    restartBaseMs: a.restart_backoff_s * 1000,
    restartMaxMs: a.restart_backoff_max_s * 1000,
    stableMs: 60_000,
    circuit: { threshold: a.circuit_crashes, windowMs: a.circuit_window_s * 1000, cooldownMs: a.circuit_cooldown_s * 1000 },
    logEntries: a.log_entries,
    terminalBufferBytes: a.terminal_buffer_kib * 1024,
    permissions: permissionsFromConfig(a.permissions),
    sandbox: a.sandbox,
    sandboxRoles: { ...a.sandbox_roles },
    sandboxTeam: a.team || undefined,
    sandboxOrg: a.org || undefined,
    sandboxImage: a.image || undefined,
    sandboxMountClaude: a.sandbox_mount_claude,
    heartbeatMs: config.acp.heartbeat_interval_s * 1000,
    ...extra,
  }
}

/** Settings worth a warning when the daemon starts. */
export function poolWarnings(config: CcaConfig): string[] {
  const p = config.agents.permissions
  const dangerous = [...(p.mode === "dangerous" ? ["every role"] : []), ...Object.entries(p.roles).filter(([, r]) => r.mode === "dangerous").map(([role]) => `role ${role}`)]
  const warnings = dangerous.length ? [`agents.permissions: mode = "dangerous" for ${dangerous.join(", ")}: those agents run with --dangerously-skip-permissions (every tool call allowed without review)`] : []
  return warnings
}
