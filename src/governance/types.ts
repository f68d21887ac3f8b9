import type { Marketplace, McpServer, NetworkPolicy, SafetyNet } from "../org/schema"

// The result of the one merge function that `config explain`, `start --dry-run`
// and `start` all use. This is the `data` of `scc config explain --json`.

/**
 * Where a value came from: `org.defaults`, `team.<name>`, `project`, `cli` (a
 * flag), or `org.security` (safety_net, which only security sets).
 */
export type Source = "org.defaults" | `team.${string}` | "project" | "cli" | "org.security"

export type TargetType = "plugin" | "mcp_server" | "image"

export type EffectiveMcpServer = McpServer & { source: Source }

export type Decision = {
  /** Dotted path, e.g. `session.timeout_hours`, `plugins`, `mcp_servers.github`. */
  field: string
  value: unknown
  source: Source
  reason: string
}

export type BlockedItem = {
  item: string
  target_type: TargetType
  /** The original pattern from security.*, or the stdio gate's reason. */
  blocked_by: string
  source: "org.security"
  requested_by: Source
}

export type DeniedItem = {
  item: string
  target_type: TargetType
  requested_by: "team" | "project"
  reason: string
}

export type AppliedException = {
  id: string
  /** policy: published in the org config; user: ~/.config/scc; repo: <root>/.scc. */
  scope: "policy" | "user" | "repo"
  reason: string
  expires_at?: string
  lifted: { item: string; target_type: TargetType; kind: "blocked" | "denied" }[]
}

export type Effective = {
  /** Plugin refs, normalised to `name@marketplace`. */
  plugins: string[]
  mcp_servers: EffectiveMcpServer[]
  /** The marketplaces the enabled plugins need, for Claude Code's settings.json. */
  marketplaces: Record<string, Marketplace>
  session: { timeout_hours: number | null; auto_resume: boolean }
  network_policy: NetworkPolicy
  safety_net: SafetyNet
  /** Normalised container image, or null when nothing chose one. */
  image: string | null
}

export type EffectiveConfig = {
  team: string | null
  effective: Effective
  decisions: Decision[]
  blocked: BlockedItem[]
  denied: DeniedItem[]
  exceptions: AppliedException[]
  /** Non-fatal findings (e.g. a stdio command missing on this host). */
  warnings: string[]
}
