import { describeSource, loadConfig, type LoadedConfig, type LoadOptions, type Source } from "./load"
import { join } from "node:path"
import { BUILTIN_ROLES } from "../agent/roles"
import { permissionArgs } from "../agent/permissions"
import { paths } from "../paths"
import { SECTIONS } from "./schema"

// Every configuration value with the place it came from: its default, the
// file, or an environment variable. Secrets in values (passwords in URLs) are
// masked; API keys are stored as hashes and shown by id only.

export type ExplainedValue = { key: string; value: unknown; source: Source; from: string }

export type AgentToolsExplanation = {
  /** Where each agent works: agents.workspace, else its own directory under the data dir. */
  workdir: string
  /** Per role (built-in and those with their own [agents.permissions.roles.*]): the mode and the effective Claude Code rules. */
  roles: { role: string; mode: string; allowed: string[]; denied: string[] }[]
}

export type DaemonConfigExplanation = {
  file: string | null
  searched: string[]
  values: ExplainedValue[]
  agents: AgentToolsExplanation
}

/** The tools agents get, as the pool will pass them to Claude Code (the cca MCP server included). */
export function agentTools(config: LoadedConfig["config"]): AgentToolsExplanation {
  const a = config.agents
  const workdir = a.workspace || join(paths.ccaDataDir(), "workdirs", "<agent-id>")
  const perms = { mode: a.permissions.mode, allowed_tools: a.permissions.allowed_tools, disallowed_tools: a.permissions.disallowed_tools, allow_network: a.permissions.allow_network, roles: a.permissions.roles }
  const roles = [...new Set([...Object.keys(BUILTIN_ROLES), ...Object.keys(a.permissions.roles)])]
  return {
    workdir,
    roles: roles.map((role) => {
      const p = permissionArgs(perms, role, { mcpServers: ["cca"], workdir: a.worktrees ? join(paths.ccaDataDir(), "worktrees", "<agent-id>") : workdir })
      return { role, mode: p.mode, allowed: p.allowed, denied: p.disallowed }
    }),
  }
}

/** `postgres://user:secret@host/db` -> `postgres://user:****@host/db`. */
export function maskUrl(value: string): string {
  try {
    const u = new URL(value)
    if (!u.password) return value
    u.password = "****"
    return u.toString()
  } catch {
    return value
  }
}

function display(key: string, value: unknown): unknown {
  if (key === "daemon.api_keys" && Array.isArray(value)) return value.map((h) => `key ${String(h).split(":")[1] ?? "?"} (hashed)`)
  if (key.endsWith(".url") && typeof value === "string") return maskUrl(value)
  if (key === "client.api_key" && typeof value === "string" && value) return `${value.slice(0, 12)}**** (set)`
  return value
}

export function explainLoaded(loaded: LoadedConfig): DaemonConfigExplanation {
  const values: ExplainedValue[] = []
  for (const section of SECTIONS) {
    const table = loaded.config[section] as Record<string, unknown>
    for (const [k, value] of Object.entries(table)) {
      const key = `${section}.${k}`
      const source = loaded.sources.get(key) ?? { kind: "default" as const }
      values.push({ key, value: display(key, value), source, from: describeSource(source) })
    }
  }
  return { file: loaded.file ?? null, searched: loaded.searched, values, agents: agentTools(loaded.config) }
}

export async function explainDaemonConfig(opts: LoadOptions = {}): Promise<DaemonConfigExplanation> {
  return explainLoaded(await loadConfig(opts))
}
