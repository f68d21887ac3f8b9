import { computeEffectiveConfig } from "../governance/merge"
import { realHost, type Host } from "../governance/stdio"
import type { AppliedException } from "../governance/types"
import type { McpServer, OrgConfig } from "../org/schema"
import type { McpServerInfo, PluginAudit } from "./plugins"

// `audit plugins --enforce`: are the installed plugins and their MCP servers
// allowed by the org's security policy?
//
// So that the answer is exactly what `config explain` would say, nothing here
// matches patterns itself: each installed plugin is run through the governance
// merge (computeEffectiveConfig) as if the org's defaults enabled it with its
// MCP servers. At the org layer only security applies (blocked plugins and
// servers, server URL hosts and stdio commands, the stdio gate), lifted only by
// the org's policy exceptions for the user's team, which is the question here.
// Delegation and allowlists govern what teams and projects may *add* to a
// launch, not what may be installed, so they are not violations.

export type Violation = {
  /** The installed plugin (`name@marketplace`) and its install scope. */
  plugin: string
  scope: string | null
  target_type: "plugin" | "mcp_server"
  item: string
  /** The security pattern or the stdio gate's reason, as `config explain` shows it. */
  blocked_by: string
}

export type Enforcement = {
  team: string | null
  violations: Violation[]
  /** Policy exceptions that let an installed plugin or server through. */
  exceptions: AppliedException[]
  warnings: string[]
}

/** The plugin's server in the org config's shape; `${CLAUDE_PLUGIN_ROOT}` resolved so the stdio gate sees the real command. */
function asOrgServer(s: McpServerInfo, root: string | null): McpServer {
  if (s.type === "stdio") {
    const command = (s.command ?? "").replaceAll("${CLAUDE_PLUGIN_ROOT}", root ?? "${CLAUDE_PLUGIN_ROOT}")
    return { name: s.name, type: "stdio", command }
  }
  // Any other transport is checked like http: by name and URL host. No URL fails closed (the merge blocks it).
  return { name: s.name, type: s.type === "sse" ? "sse" : "http", url: s.url ?? "" }
}

export function enforcePolicy(plugins: readonly PluginAudit[], opts: { org: OrgConfig; team: string | null; now: Date; host?: Host }): Enforcement {
  const host = opts.host ?? realHost()
  const violations: Violation[] = []
  const exceptions = new Map<string, AppliedException>()
  const warnings = new Set<string>()
  for (const p of plugins) {
    const org: OrgConfig = {
      ...opts.org,
      defaults: { ...opts.org.defaults, enabled_plugins: [p.id], disabled_plugins: [], mcp_servers: p.mcp_servers.map((s) => asOrgServer(s, p.installPath)) },
      // The team's own additions are not the question; its name still scopes policy exceptions.
      profiles: opts.team ? { [opts.team]: { additional_plugins: [], additional_mcp_servers: [] } } : {},
    }
    const result = computeEffectiveConfig({ org, team: opts.team, project: null, localExceptions: [], now: opts.now, host })
    for (const b of result.blocked) {
      if (b.target_type === "image") continue
      violations.push({ plugin: p.id, scope: p.scope, target_type: b.target_type, item: b.item, blocked_by: b.blocked_by })
    }
    for (const e of result.exceptions) {
      const seen = exceptions.get(`${e.scope}:${e.id}`)
      if (seen) seen.lifted.push(...e.lifted)
      else exceptions.set(`${e.scope}:${e.id}`, { ...e, lifted: [...e.lifted] })
    }
    for (const w of result.warnings) if (!w.startsWith("Marketplace ")) warnings.add(`${p.id}: ${w}`)
  }
  return { team: opts.team, violations, exceptions: [...exceptions.values()], warnings: [...warnings] }
}
