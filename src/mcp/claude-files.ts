import { realpathSync, statSync } from "node:fs"
import { join } from "node:path"
import { ConfigError } from "../errors"
import { readTextIfExists, writeFileAtomic } from "../files"
import * as flag from "../flag"
import { findRepoRoot } from "../git/root"

// Where Claude Code keeps what `cca mcp install` and `cca plugin install`
// write, as the real CLI (2.1.x) does it:
// - its config home is $CLAUDE_CONFIG_DIR, else ~/.claude;
// - user-scope MCP servers live in `mcpServers` of $CLAUDE_CONFIG_DIR/.claude.json,
//   else ~/.claude.json (the file `claude mcp add -s user` writes), a file
//   Claude Code also keeps its own state in: everything else is kept as is;
// - project-scope MCP servers live in <project>/.mcp.json;
// - a plugin folder in <config home>/skills/<name> (user) or
//   <project>/.claude/skills/<name> (project) is loaded at the next start as
//   `<name>@skills-dir`, with no marketplace or install record.

export type Scope = "user" | "project"

export const claudeConfigHome = () => flag.claudeConfigDir() ?? join(flag.home(), ".claude")

export function claudeUserConfigFile(): string {
  const dir = flag.claudeConfigDir()
  return dir ? join(dir, ".claude.json") : join(flag.home(), ".claude.json")
}

/** The repository root of `cwd`, or `cwd` itself outside a repository. */
export const projectRoot = (cwd: string) => findRepoRoot(cwd)?.root ?? cwd

export function pluginDir(scope: Scope, name: string, cwd: string): string {
  return scope === "user" ? join(claudeConfigHome(), "skills", name) : join(projectRoot(cwd), ".claude", "skills", name)
}

export type StdioServer = { type: "stdio"; command: string; args: string[]; env: Record<string, string> }

export type Registered = { file: string; name: string; server: StdioServer; replaced: boolean }

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v)
}

/**
 * Add (or replace) one stdio server in `mcpServers` of a Claude Code config
 * file, keeping every other key and server. A file that is not a JSON object
 * is left untouched: the error names it.
 */
export async function registerMcpServer(path: string, name: string, server: StdioServer, newFileMode = 0o600): Promise<Registered> {
  const text = await readTextIfExists(path, 64 * 1024 * 1024) // Claude Code's ~/.claude.json grows with its history
  // A dotfile manager's symlink stays a symlink: the file it points to is replaced.
  const file = text === undefined ? path : realpathSync(path)
  let config: unknown = {}
  if (text !== undefined && text.trim() !== "") {
    try {
      config = JSON.parse(text)
    } catch (e) {
      throw new ConfigError(`${file} is not valid JSON (${(e as Error).message}); it was left as it is`, { hint: `fix or move ${file}, then run this again` })
    }
  }
  if (!isObject(config)) throw new ConfigError(`${file} does not hold a JSON object; it was left as it is`, { hint: `fix or move ${file}, then run this again` })
  if (config.mcpServers !== undefined && !isObject(config.mcpServers)) {
    throw new ConfigError(`mcpServers in ${file} is not an object; it was left as it is`, { hint: `fix mcpServers in ${file}, then run this again` })
  }
  const servers = (config.mcpServers ?? {}) as Record<string, unknown>
  const replaced = name in servers
  config.mcpServers = { ...servers, [name]: server }
  const mode = text === undefined ? newFileMode : statSync(file).mode & 0o777
  writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`, mode)
  return { file, name, server, replaced }
}

/**
 * Problem: `cca mcp install` and `cca plugin install` both give Claude Code
 * a `cca mcp` server. Claude Code (2.1.x) suppresses a plugin's MCP server
 * whose command and arguments equal a manually configured one ("duplicates
 * manually-configured ..."), so the tools are then only under the manual
 * name (mcp__cca__*), not the plugin's (mcp__plugin_cca_cca__*).
 * Fix: the plugin's commands allow both names, and each install says what
 * the other left (`registrationsOf`), and which one to keep.
 */
export type CcaRegistration = { kind: "plugin" | "server"; scope: Scope; where: string; name: string; command: string[] }

function serversIn(text: string | undefined): Record<string, { command?: unknown; args?: unknown }> {
  if (!text) return {}
  try {
    const config = JSON.parse(text) as unknown
    return isObject(config) && isObject(config.mcpServers) ? (config.mcpServers as Record<string, { command?: unknown; args?: unknown }>) : {}
  } catch {
    return {}
  }
}

const argv = (s: { command?: unknown; args?: unknown }): string[] | undefined =>
  typeof s.command === "string" ? [s.command, ...(Array.isArray(s.args) ? s.args.map(String) : [])] : undefined

/** Runs `cca mcp` (any program name), as the shared server does, not an agent's bridge. */
const runsCcaMcp = (cmd: string[]) => cmd.at(-1) === "mcp" && !cmd.includes("--agent")

/** Every `cca mcp` server Claude Code would load for `cwd`: the plugin's (user, project) and manual ones (~/.claude.json, .mcp.json). */
export async function ccaRegistrations(cwd: string, pluginName: string): Promise<CcaRegistration[]> {
  const out: CcaRegistration[] = []
  for (const scope of ["user", "project"] as const) {
    const dir = pluginDir(scope, pluginName, cwd)
    for (const [name, s] of Object.entries(serversIn(await readTextIfExists(join(dir, ".mcp.json"))))) {
      const cmd = argv(s)
      if (cmd) out.push({ kind: "plugin", scope, where: dir, name, command: cmd })
    }
  }
  const files = [["user", claudeUserConfigFile()], ["project", join(projectRoot(cwd), ".mcp.json")]] as const
  for (const [scope, file] of files) {
    for (const [name, s] of Object.entries(serversIn(await readTextIfExists(file, 64 * 1024 * 1024)))) {
      const cmd = argv(s)
      if (cmd && runsCcaMcp(cmd)) out.push({ kind: "server", scope, where: file, name, command: cmd })
    }
  }
  return out
}

/** What to tell the user when the plugin and a manual server both exist; undefined when only one does. */
export function overlapAdvice(regs: CcaRegistration[]): string | undefined {
  const plugins = regs.filter((r) => r.kind === "plugin")
  const servers = regs.filter((r) => r.kind === "server")
  if (plugins.length === 0 || servers.length === 0) return undefined
  const same = servers.filter((s) => plugins.some((p) => p.command.join("\0") === s.command.join("\0")))
  const s = servers[0]!
  const p = plugins[0]!
  const effect = same.length > 0
    ? `Claude Code then drops the plugin's copy and names the tools mcp__${same[0]!.name}__* (${same[0]!.name === "cca" ? "the plugin's /cca:* commands allow that name too" : "which the plugin's /cca:* commands do not allow: name it cca"})`
    : "Claude Code then runs both, and every cca tool appears twice"
  return (
    `the cca plugin (${p.where}) and the MCP server "${s.name}" in ${s.where} both run \`cca mcp\`; ${effect}. ` +
    `Keep one: the plugin, for its /cca:* commands (\`claude mcp remove ${s.name} --scope ${s.scope}\`), or the server alone (\`rm -r ${p.where}\`)`
  )
}
