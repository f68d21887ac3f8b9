import { command } from "./common"
import { selfCommand } from "../agent/mcp-config"
import { UsageError } from "../errors"
import { ccaRegistrations, claudeUserConfigFile, overlapAdvice, projectRoot, registerMcpServer } from "../mcp/claude-files"
import { PLUGIN_NAME } from "../mcp/plugin"
import { keyValues } from "../output"
import { join } from "node:path"

// `cca mcp install`: what `claude mcp add` does, for users who want the
// tools without the plugin. User scope writes `mcpServers` of the user config
// Claude Code reads (~/.claude.json); project scope the project's .mcp.json
// (Claude Code asks once before it starts a project's server).

export default command({
  meta: { name: "install", description: "Register `cca mcp` with Claude Code (user: ~/.claude.json; project: .mcp.json)" },
  args: {
    scope: { type: "string", description: "user (~/.claude.json) or project (.mcp.json)", default: "user" },
    name: { type: "string", description: "Server name; tools appear as mcp__<name>__cca_task", default: "cca" },
    command: { type: "string", description: "Program Claude Code starts (default: this binary; `cca` to use PATH)" },
  },
  async run(ctx, args) {
    const scope = String(args.scope)
    if (scope !== "user" && scope !== "project") throw new UsageError(`--scope must be user or project, not ${scope}`, { hint: "cca mcp install --scope user" })
    const name = String(args.name)
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new UsageError(`--name must be letters, digits, - and _, not ${name}`, { hint: "cca mcp install --name cca" })
    const [bin, ...rest] = args.command ? [String(args.command)] : selfCommand()
    const file = scope === "user" ? claudeUserConfigFile() : join(projectRoot(process.cwd()), ".mcp.json")
    // A project's .mcp.json is meant to be committed: readable by all. ~/.claude.json holds secrets of Claude Code's own.
    const r = await registerMcpServer(file, name, { type: "stdio", command: bin!, args: [...rest, "mcp"], env: {} }, scope === "user" ? 0o600 : 0o644)
    const overlap = overlapAdvice(await ccaRegistrations(process.cwd(), PLUGIN_NAME))
    if (overlap) ctx.warn(overlap)
    ctx.emit("McpServerRegistered", { ...r, scope, toolPrefix: `mcp__${name}__` }, (d) =>
      [
        `${d.replaced ? "updated" : "added"} MCP server "${d.name}" (${d.scope} scope)`,
        keyValues([
          ["file", d.file],
          ["runs", [d.server.command, ...d.server.args].join(" ")],
          ["tools", `${d.toolPrefix}cca_task, ${d.toolPrefix}cca_status, ...`],
        ]),
        `Claude Code picks it up at its next start (\`claude mcp get ${d.name}\` shows it). Allow the tools with \`claude --allowedTools mcp__${d.name}\` (all of them) or permissions.allow in .claude/settings.json. The tools need a running daemon (\`cca daemon\`) and a key: CCA_API_KEY in Claude Code's environment, or client.api_key in cca.toml.`,
      ].join("\n"),
    )
  },
})
