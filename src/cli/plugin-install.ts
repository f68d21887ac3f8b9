import { command } from "./common"
import { selfCommand } from "../agent/mcp-config"
import { UsageError } from "../errors"
import { ccaRegistrations, overlapAdvice, pluginDir } from "../mcp/claude-files"
import { installPlugin, PLUGIN_NAME, TOOL_PREFIX } from "../mcp/plugin"
import { keyValues } from "../output"

// `cca plugin install`: write the plugin embedded in this binary where
// Claude Code loads it by itself at its next start (as cca@skills-dir):
// user scope ~/.claude/skills/cca, project scope <repo>/.claude/skills/cca.

export default command({
  meta: { name: "install", description: "Install the cca plugin for Claude Code (MCP server + /cca:* commands)" },
  args: {
    scope: { type: "string", description: "user (~/.claude/skills/cca) or project (<repo>/.claude/skills/cca)", default: "user" },
    command: { type: "string", description: "Program the plugin's MCP server runs (default: this binary; `cca` to use PATH)" },
  },
  async run(ctx, args) {
    const scope = String(args.scope)
    if (scope !== "user" && scope !== "project") throw new UsageError(`--scope must be user or project, not ${scope}`, { hint: "cca plugin install --scope user" })
    const cmd = args.command ? [String(args.command)] : selfCommand()
    const r = installPlugin(pluginDir(scope, PLUGIN_NAME, process.cwd()), cmd)
    const overlap = overlapAdvice(await ccaRegistrations(process.cwd(), PLUGIN_NAME))
    if (overlap) ctx.warn(overlap)
    ctx.emit("PluginInstalled", { ...r, scope, plugin: `${PLUGIN_NAME}@skills-dir`, runs: [...cmd, "mcp"], toolPrefix: TOOL_PREFIX }, (d) =>
      [
        `${d.replaced ? "updated" : "installed"} the ${PLUGIN_NAME} plugin (${d.scope} scope)`,
        keyValues([
          ["dir", d.dir],
          ["mcp server", d.runs.join(" ")],
          ["commands", "/cca:task, /cca:status, /cca:agents, /cca:memory"],
          ["tools", `${d.toolPrefix}cca_task, ...`],
        ]),
        `Claude Code loads it at its next start as ${d.plugin} (in a running session: /reload-plugins). Remove it by deleting ${d.dir}.`,
        "The tools need a running daemon (`cca daemon`) and a key: CCA_API_KEY in Claude Code's environment, or client.api_key in cca.toml.",
      ].join("\n"),
    )
  },
})
