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
