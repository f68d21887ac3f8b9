import { existsSync, readFileSync, renameSync, rmSync } from "node:fs"
import { join } from "node:path"
import { ConfigError } from "../errors"
import { writeFileAtomic } from "../files"
import { VERSION } from "../version"
import readme from "../../plugin/README.md" with { type: "text" }
import agentsCommand from "../../plugin/commands/agents.md" with { type: "text" }
import memoryCommand from "../../plugin/commands/memory.md" with { type: "text" }
import statusCommand from "../../plugin/commands/status.md" with { type: "text" }
import taskCommand from "../../plugin/commands/task.md" with { type: "text" }
import mcpJson from "../../plugin/.mcp.json" with { type: "json" }
import manifest from "../../plugin/.claude-plugin/plugin.json" with { type: "json" }

// The Claude Code plugin in plugin/, embedded in the binary so that
// `cca plugin install` writes it without the repository. plugin/ itself is
// a plugin (`claude --plugin-dir plugin`) whose .mcp.json runs `cca mcp`
// from PATH; an installed copy runs the binary that installed it, so it
// works where `cca` is not on PATH.

export const PLUGIN_NAME = manifest.name
/** The MCP server's name in .mcp.json: Claude Code calls its tools mcp__plugin_<plugin>_<server>__<tool>. */
export const SERVER_NAME = "cca"
export const TOOL_PREFIX = `mcp__plugin_${PLUGIN_NAME}_${SERVER_NAME}__`

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

/** The plugin's files (path inside the plugin -> content), the MCP server started as `command`. */
export function pluginFiles(command: string[] = ["cca"]): Record<string, string> {
  const [bin, ...rest] = command
  if (!bin) throw new Error("pluginFiles: empty command")
  const server = { ...mcpJson.mcpServers.cca, command: bin, args: [...rest, ...mcpJson.mcpServers.cca.args] }
  return {
    ".claude-plugin/plugin.json": json({ ...manifest, version: VERSION }),
    ".mcp.json": json({ mcpServers: { [SERVER_NAME]: server } }),
    "commands/agents.md": agentsCommand,
    "commands/memory.md": memoryCommand,
    "commands/status.md": statusCommand,
    "commands/task.md": taskCommand,
    "README.md": readme,
  }
}

export type Installed = { dir: string; files: string[]; replaced: boolean }

/** The plugin at `dir` is ours (or nothing is there): safe to replace. */
function ours(dir: string): boolean {
  if (!existsSync(dir)) return true
  try {
    return (JSON.parse(readFileSync(join(dir, ".claude-plugin", "plugin.json"), "utf8")) as { name?: unknown }).name === PLUGIN_NAME
  } catch {
    return false
  }
}

/**
 * Write the plugin to `dir`: into a sibling temp folder first, then swapped
 * in with renames, so Claude Code never loads a half-written plugin and a
 * failure leaves the old one in place.
 */
export function installPlugin(dir: string, command: string[]): Installed {
  if (!ours(dir)) throw new ConfigError(`${dir} exists and is not the ${PLUGIN_NAME} plugin; it was left as it is`, { hint: `move ${dir} away, then run this again` })
  const files = pluginFiles(command)
  const suffix = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  const fresh = `${dir}.new-${suffix}`
  const old = `${dir}.old-${suffix}`
  try {
    for (const [path, content] of Object.entries(files)) writeFileAtomic(join(fresh, path), content, 0o644)
    const replaced = existsSync(dir)
    if (replaced) renameSync(dir, old)
    try {
      renameSync(fresh, dir)
    } catch (e) {
      if (replaced) renameSync(old, dir)
      throw e
    }
    rmSync(old, { recursive: true, force: true })
    return { dir, files: Object.keys(files), replaced }
  } finally {
    rmSync(fresh, { recursive: true, force: true })
  }
}
