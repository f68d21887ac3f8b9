import * as v from "valibot"

// The organisation's config (published at a URL) and the project's .scc.yaml.
// Objects are loose: unknown keys are kept (and warned about by validation),
// never fatal, so an org can publish keys a newer CLI understands.

const Patterns = v.array(v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty")))
const Hours = v.pipe(v.number(), v.finite("must be a finite number of hours"), v.minValue(0, "must be 0 or more"))

export const NetworkPolicy = v.picklist(["unrestricted", "corp-proxy-only", "isolated"])
export type NetworkPolicy = v.InferOutput<typeof NetworkPolicy>

export const Session = v.looseObject({
  timeout_hours: v.optional(Hours),
  auto_resume: v.optional(v.boolean()),
})
export type Session = v.InferOutput<typeof Session>

export const McpServer = v.pipe(
  v.looseObject({
    name: v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty")),
    type: v.picklist(["sse", "http", "stdio"]),
    url: v.optional(v.string()),
    command: v.optional(v.string()),
    args: v.optional(v.array(v.string())),
    env: v.optional(v.record(v.string(), v.string())),
    headers: v.optional(v.record(v.string(), v.string())),
  }),
  v.forward(v.check((s) => s.type === "stdio" || typeof s.url === "string", "an sse or http MCP server needs a url"), ["url"]),
  v.forward(v.check((s) => s.type !== "stdio" || typeof s.command === "string", "a stdio MCP server needs a command"), ["command"]),
)
export type McpServer = v.InferOutput<typeof McpServer>

/** Where Claude Code fetches a marketplace from (its `extraKnownMarketplaces` shape). */
export const Marketplace = v.looseObject({
  source: v.picklist(["github", "git", "url", "directory"]),
  repo: v.optional(v.string()),
  url: v.optional(v.string()),
  path: v.optional(v.string()),
  ref: v.optional(v.string()),
})
export type Marketplace = v.InferOutput<typeof Marketplace>

/** Container settings; `image` is checked against security.blocked_base_images. */
export const Sandbox = v.looseObject({ image: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1))) })
export type Sandbox = v.InferOutput<typeof Sandbox>

export const SafetyNet = v.looseObject({
  action: v.optional(v.picklist(["block", "warn", "allow"]), "block"),
  block_force_push: v.optional(v.boolean(), true),
  block_reset_hard: v.optional(v.boolean(), true),
  block_branch_force_delete: v.optional(v.boolean(), true),
  block_clean: v.optional(v.boolean(), true),
})
export type SafetyNet = v.InferOutput<typeof SafetyNet>

/** What an exception lets through. Items are patterns, matched like blocks. */
export const ExceptionAllow = v.looseObject({
  plugins: v.optional(Patterns, []),
  mcp_servers: v.optional(Patterns, []),
  base_images: v.optional(Patterns, []),
})
export type ExceptionAllow = v.InferOutput<typeof ExceptionAllow>

/** A policy exception, published by the org: may lift security blocks and delegation denials. */
export const PolicyException = v.looseObject({
  id: v.pipe(v.string(), v.minLength(1)),
  reason: v.pipe(v.string(), v.minLength(1, "an exception needs a reason")),
  allow: ExceptionAllow,
  /** Team name patterns this applies to; absent means every team. */
  teams: v.optional(Patterns),
  expires_at: v.optional(v.pipe(v.string(), v.isoTimestamp("must be an ISO 8601 timestamp"))),
})
export type PolicyException = v.InferOutput<typeof PolicyException>

export const Profile = v.looseObject({
  description: v.optional(v.string()),
  additional_plugins: v.optional(Patterns, []),
  additional_mcp_servers: v.optional(v.array(McpServer), []),
  network_policy: v.optional(NetworkPolicy),
  session: v.optional(Session),
  sandbox: v.optional(Sandbox),
  delegation: v.optional(v.looseObject({ allow_project_overrides: v.optional(v.boolean(), false) })),
})
export type Profile = v.InferOutput<typeof Profile>

export const OrgConfig = v.looseObject({
  schema_version: v.pipe(
    v.union([v.string(), v.number()]),
    v.transform(String),
    v.check((s) => /^1(\.\d+){0,2}$/.test(s), "this CLI reads schema major version 1"),
  ),
  min_cli_version: v.optional(v.pipe(v.string(), v.regex(/^\d+\.\d+\.\d+/, "must be a version like 1.2.3"))),
  organization: v.looseObject({
    name: v.pipe(v.string(), v.minLength(1, "must not be empty")),
    id: v.optional(v.string()),
    contact: v.optional(v.string()),
  }),
  marketplaces: v.optional(v.record(v.string(), Marketplace), {}),
  security: v.optional(
    v.looseObject({
      blocked_plugins: v.optional(Patterns, []),
      blocked_mcp_servers: v.optional(Patterns, []),
      blocked_base_images: v.optional(Patterns, []),
      allow_stdio_mcp: v.optional(v.boolean(), false),
      allowed_stdio_prefixes: v.optional(Patterns, []),
      safety_net: v.optional(SafetyNet, {}),
    }),
    {},
  ),
  defaults: v.optional(
    v.looseObject({
      allowed_plugins: v.optional(Patterns, []),
      allowed_mcp_servers: v.optional(Patterns, []),
      enabled_plugins: v.optional(Patterns, []),
      disabled_plugins: v.optional(Patterns, []),
      /** MCP servers every team gets (an extension: the org's own baseline servers). */
      mcp_servers: v.optional(v.array(McpServer), []),
      cache_ttl_hours: v.optional(Hours, 24),
      network_policy: v.optional(NetworkPolicy, "unrestricted"),
      session: v.optional(Session, {}),
      sandbox: v.optional(Sandbox, {}),
    }),
    {},
  ),
  delegation: v.optional(
    v.looseObject({
      teams: v.optional(
        v.looseObject({
          allow_additional_plugins: v.optional(Patterns, []),
          allow_additional_mcp_servers: v.optional(Patterns, []),
        }),
        {},
      ),
      projects: v.optional(v.looseObject({ inherit_team_delegation: v.optional(v.boolean(), false) }), {}),
    }),
    {},
  ),
  profiles: v.optional(v.record(v.string(), Profile), {}),
  stats: v.optional(
    v.looseObject({
      enabled: v.optional(v.boolean(), true),
      user_identity_mode: v.optional(v.picklist(["hash", "clear", "anonymous"]), "hash"),
      retention_days: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 90),
    }),
    {},
  ),
  exceptions: v.optional(v.array(PolicyException), []),
})
export type OrgConfig = v.InferOutput<typeof OrgConfig>
export type OrgConfigInput = v.InferInput<typeof OrgConfig>

/** `.scc.yaml` at the workspace root. */
export const ProjectConfig = v.looseObject({
  additional_plugins: v.optional(Patterns, []),
  additional_mcp_servers: v.optional(v.array(McpServer), []),
  session: v.optional(v.looseObject({ timeout_hours: v.optional(Hours) }), {}),
  sandbox: v.optional(Sandbox, {}),
})
export type ProjectConfig = v.InferOutput<typeof ProjectConfig>
