import type { EffectiveConfig, EffectiveMcpServer } from "../governance/types"
import type { Marketplace } from "../org/schema"

// The files `start` puts into the container, rendered from the effective
// config and nothing else. They hold no secrets: a credential appears as a
// `${VAR}` reference that Claude Code expands from the container environment.
//
// Claude Code reads two of them from its managed (policy) scope, the one scope
// a project's own `.claude/settings.json`, the user, or the agent cannot override:
// - /etc/claude-code/managed-settings.json: a settings.json with `enabledPlugins`,
//   `extraKnownMarketplaces` (the marketplaces those plugins come from) and
//   `strictKnownMarketplaces` (no other marketplace can be added inside);
// - /etc/claude-code/managed-mcp.json: exclusive control of MCP servers, so the
//   session has exactly the effective servers (no `.mcp.json`, no `claude mcp add`).
// The third, /etc/scc/effective_policy.json, is the safety net the scc safety
// plugin reads (via SCC_POLICY_PATH) to refuse destructive git commands.

export const CLAUDE_MANAGED_DIR = "/etc/claude-code"
export const SCC_POLICY_DIR = "/etc/scc"
export const POLICY_PATH = `${SCC_POLICY_DIR}/effective_policy.json`

export type InjectedFile = {
  /** Where it appears inside the container. */
  path: string
  /** The host directory (relative to the session dir) mounted read-only at dirname(path). */
  dir: "claude-code" | "scc"
  content: string
  why: string
}

/** A credential spec (`env:VAR` / `command:CMD`) found in an MCP server's env or headers. */
export type CredentialRef = { server: string; field: "env" | "headers"; key: string; spec: string; envName: string }

export function isCredentialSpec(value: string): boolean {
  return /^(env|command):./.test(value)
}

/** The container variable a credential is passed in: SCC_MCP_<SERVER>_<KEY> (headers: ..._HEADER_<KEY>). */
export function credentialEnvName(server: string, field: "env" | "headers", key: string): string {
  const part = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "")
  return ["SCC_MCP", part(server), field === "headers" ? "HEADER" : "", part(key)].filter(Boolean).join("_")
}

export function credentialRefs(servers: readonly EffectiveMcpServer[]): CredentialRef[] {
  const out: CredentialRef[] = []
  const used = new Set<string>()
  for (const s of servers) {
    for (const field of ["env", "headers"] as const) {
      for (const [key, value] of Object.entries(s[field] ?? {})) {
        if (!isCredentialSpec(value)) continue
        let envName = credentialEnvName(s.name, field, key)
        for (let i = 2; used.has(envName); i++) envName = `${credentialEnvName(s.name, field, key)}_${i}`
        used.add(envName)
        out.push({ server: s.name, field, key, spec: value, envName })
      }
    }
  }
  return out
}

type McpEntry = Record<string, unknown>

function mcpEntry(s: EffectiveMcpServer, refs: readonly CredentialRef[]): McpEntry {
  const swap = (field: "env" | "headers", rec: Record<string, string> | undefined) => {
    if (!rec) return undefined
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(rec)) {
      const ref = refs.find((r) => r.server === s.name && r.field === field && r.key === k)
      out[k] = ref ? `\${${ref.envName}}` : v
    }
    return out
  }
  if (s.type === "stdio") return dropUndefined({ type: "stdio", command: s.command, args: s.args, env: swap("env", s.env) })
  return dropUndefined({ type: s.type, url: s.url, headers: swap("headers", s.headers) })
}

function dropUndefined(o: McpEntry): McpEntry {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
}

/** Claude Code's marketplace source object: `{ source: "github", repo }`, `{ source: "git", url }`, ... */
function marketplaceSource(m: Marketplace): Record<string, unknown> {
  return Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined))
}

export function managedSettings(config: EffectiveConfig): Record<string, unknown> {
  const { plugins, marketplaces } = config.effective
  const names = Object.keys(marketplaces).sort()
  return {
    enabledPlugins: Object.fromEntries(plugins.map((p) => [p, true])),
    extraKnownMarketplaces: Object.fromEntries(names.map((n) => [n, { source: marketplaceSource(marketplaces[n]!) }])),
    strictKnownMarketplaces: names.map((n) => marketplaceSource(marketplaces[n]!)),
  }
}

export function managedMcp(config: EffectiveConfig, refs: readonly CredentialRef[]): { mcpServers: Record<string, McpEntry> } {
  return { mcpServers: Object.fromEntries(config.effective.mcp_servers.map((s) => [s.name, mcpEntry(s, refs)])) }
}

/** The safety net, in the flat shape the safety plugin reads (`action`, `block_*`). */
export function effectivePolicy(config: EffectiveConfig): Record<string, unknown> {
  return { ...config.effective.safety_net }
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

export function injectedFiles(config: EffectiveConfig, refs: readonly CredentialRef[]): InjectedFile[] {
  return [
    {
      path: `${CLAUDE_MANAGED_DIR}/managed-settings.json`,
      dir: "claude-code",
      content: json(managedSettings(config)),
      why: "Claude Code settings (managed scope): enabled plugins and their marketplaces",
    },
    {
      path: `${CLAUDE_MANAGED_DIR}/managed-mcp.json`,
      dir: "claude-code",
      content: json(managedMcp(config, refs)),
      why: "exactly the effective MCP servers (Claude Code's exclusive managed MCP config)",
    },
    { path: POLICY_PATH, dir: "scc", content: json(effectivePolicy(config)), why: "the safety net (SCC_POLICY_PATH)" },
  ]
}
