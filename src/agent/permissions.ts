import { ConfigError } from "../errors"

// From the `[agents.permissions]` config to Claude Code flags. A pure
// function: the pool passes config values in, tests read the flags back.
//
// Every mode runs Claude Code with `--permission-mode dontAsk` (except
// dangerous): a tool call that would need a person's approval is denied and
// the denial goes back to the model as a tool result. Without it, `claude -p`
// with stream-json input asks its host over stdin and the agent would hang.

export type PermissionMode = "allowlist" | "sandbox" | "dangerous"

export type PermissionRules = {
  mode?: PermissionMode
  /** Claude Code permission rules: `Edit`, `Bash(git diff:*)`, `mcp__server`. */
  allowed_tools?: string[]
  disallowed_tools?: string[]
  /** false (the default) also denies curl, wget, nc and Claude Code's web tools. */
  allow_network?: boolean
}

/** `[agents.permissions]` plus `[agents.permissions.roles.<role>]`, whose fields replace the base ones. */
export type PermissionsConfig = PermissionRules & { roles?: Record<string, PermissionRules> }

export type PermissionPlan = {
  mode: PermissionMode
  allowed: string[]
  disallowed: string[]
  /** The flags for the claude command line. */
  args: string[]
  warnings: string[]
}

export const DEFAULT_ALLOWED_TOOLS = [
  "Read",
  "Glob",
  "Grep",
  "LS",
  "Edit",
  "MultiEdit",
  "Write",
  "NotebookEdit",
  "TodoWrite",
  "Bash(git status:*)",
  "Bash(git diff:*)",
  "Bash(git log:*)",
  "Bash(git show:*)",
  "Bash(git add:*)",
  "Bash(git commit:*)",
]

export const READ_ONLY_TOOLS = ["Read", "Glob", "Grep", "LS", "TodoWrite"]
export const WRITE_TOOLS = ["Edit", "MultiEdit", "Write", "NotebookEdit"]
export const NETWORK_RULES = ["Bash(curl:*)", "Bash(wget:*)", "Bash(nc:*)", "Bash(ncat:*)", "Bash(netcat:*)", "WebFetch", "WebSearch"]

const MODES: readonly PermissionMode[] = ["allowlist", "sandbox", "dangerous"]

function checkRules(where: string, list: unknown): string[] | undefined {
  if (list === undefined) return undefined
  if (!Array.isArray(list)) throw new ConfigError(`${where} must be a list of tool rules`, { hint: `e.g. ${where} = ["Read", "Bash(git diff:*)"]` })
  for (const rule of list) {
    if (typeof rule !== "string" || rule.trim() === "" || rule.startsWith("-") || /[\n\r]/.test(rule)) {
      throw new ConfigError(`${where} holds an invalid tool rule: ${JSON.stringify(rule)}`, { hint: 'a rule is a tool name, optionally with a pattern: "Edit", "Bash(npm test:*)"' })
    }
  }
  return list.map((r: string) => r.trim())
}

function effectiveRules(config: PermissionsConfig, role: string): Required<Pick<PermissionRules, "mode" | "allow_network">> & PermissionRules {
  const override = config.roles?.[role] ?? {}
  const mode = override.mode ?? config.mode ?? "allowlist"
  const where = config.roles?.[role]?.mode !== undefined ? `agents.permissions.roles.${role}.mode` : "agents.permissions.mode"
  if (!MODES.includes(mode)) throw new ConfigError(`${where} is ${JSON.stringify(mode)}`, { hint: `use one of: ${MODES.join(", ")}` })
  const prefix = override.allowed_tools !== undefined ? `agents.permissions.roles.${role}` : "agents.permissions"
  return {
    mode,
    allow_network: override.allow_network ?? config.allow_network ?? false,
    allowed_tools: checkRules(`${prefix}.allowed_tools`, override.allowed_tools ?? config.allowed_tools),
    disallowed_tools: checkRules(`agents.permissions.disallowed_tools`, override.disallowed_tools ?? config.disallowed_tools),
  }
}

const unique = (list: string[]) => [...new Set(list)]

/**
 * Problem: an agent under the default allowlist wrote a file outside its
 * working directory (`Write` allowed any path). Fix: a file-editing rule with
 * no pattern (`Edit`, `MultiEdit`, `Write`, `NotebookEdit`) becomes
 * `Edit(//<workdir>/**)`: `//` is Claude Code's absolute path pattern, and
 * Claude Code (2.1.x) checks every file-editing tool against `Edit` path
 * rules (a `Write(path)` rule never matches: measured with the real CLI), so
 * an edit anywhere else is not allowed and, in dontAsk mode, is denied back
 * to the model. A rule the config gives with its own pattern is kept as is.
 */
export function scopedRule(rule: string, workdir: string): string {
  if (!WRITE_TOOLS.includes(rule) || !workdir.startsWith("/")) return rule
  return `Edit(/${workdir.replace(/\/+$/, "")}/**)`
}

/**
 * The permission flags for one agent of `role`. `mcpServers` names the
 * agent's own MCP servers, whose tools are always allowed (`mcp__<name>`).
 */
export function permissionArgs(config: PermissionsConfig = {}, role: string, opts: { mcpServers?: string[]; workdir?: string } = {}): PermissionPlan {
  const r = effectiveRules(config, role)
  const scope = (rules: string[]) => (opts.workdir ? rules.map((t) => scopedRule(t, opts.workdir!)) : rules)
  const mcp = (opts.mcpServers ?? []).map((name) => `mcp__${name}`)
  const network = r.allow_network ? [] : NETWORK_RULES
  const warnings: string[] = []

  let allowed: string[]
  let disallowed: string[]
  if (r.mode === "sandbox") {
    if (r.allowed_tools !== undefined) warnings.push(`agents.permissions: allowed_tools is ignored for role ${role} in sandbox mode (read-only tools only)`)
    allowed = [...READ_ONLY_TOOLS, ...mcp]
    disallowed = [...WRITE_TOOLS, ...(r.disallowed_tools ?? []), ...network]
  } else {
    allowed = [...scope(r.allowed_tools ?? DEFAULT_ALLOWED_TOOLS), ...mcp]
    disallowed = [...(r.disallowed_tools ?? []), ...network]
  }
  allowed = unique(allowed).filter((t) => !disallowed.includes(t))
  disallowed = unique(disallowed)

  const args: string[] = []
  if (r.mode === "dangerous") {
    warnings.push(`agents.permissions: role ${role} runs with --dangerously-skip-permissions (mode = "dangerous"): every tool call is allowed without review`)
    args.push("--dangerously-skip-permissions")
  } else {
    args.push("--permission-mode", "dontAsk")
  }
  if (allowed.length > 0 && r.mode !== "dangerous") args.push("--allowedTools", ...allowed)
  if (disallowed.length > 0) args.push("--disallowedTools", ...disallowed)
  return { mode: r.mode, allowed: r.mode === "dangerous" ? ["*"] : allowed, disallowed, args, warnings }
}
