import { command } from "./common"
import { auditFailed, auditPlugins, type AuditReport } from "../audit/plugins"
import type { Manifest } from "../audit/manifest"
import { table } from "../output"
import { paths } from "../paths"

// Exit 1 when a manifest (or the registry) is malformed or unreadable, so a CI
// step fails; the report is printed either way.

const where = (m: Manifest) => (m.line ? `${m.path}:${m.line}:${m.column}` : m.path)

function render(r: AuditReport): string {
  const reg = `registry: ${r.registry.path} (${r.registry.status}${r.registry.format ? `, ${r.registry.format}` : ""})`
  const problems = [r.registry, ...r.plugins.flatMap((p) => [p.manifests.plugin, p.manifests.mcp, p.manifests.hooks, ...p.manifests.extra])]
    .filter((m) => m.status === "malformed" || m.status === "unreadable")
    .map((m) => `  ${m.status}: ${where(m)}: ${m.error}`)
  const warnings = r.plugins.flatMap((p) => p.warnings.map((w) => `  ${p.id}: ${w}`))
  const s = r.summary
  return [
    reg,
    r.plugins.length
      ? table(r.plugins, [
          { header: "plugin", get: (p) => p.id },
          { header: "scope", get: (p) => p.scope },
          { header: "version", get: (p) => p.version },
          { header: "plugin.json", get: (p) => p.manifests.plugin.status },
          { header: ".mcp.json", get: (p) => p.manifests.mcp.status },
          { header: "hooks.json", get: (p) => p.manifests.hooks.status },
          { header: "mcp servers", get: (p) => p.mcp_servers.map((m) => `${m.name}(${m.type})`).join(", ") },
          { header: "hooks", get: (p) => p.hooks.length, align: "right" },
        ])
      : "no plugins installed",
    ...(problems.length ? ["problems:", ...problems] : []),
    ...(warnings.length ? ["warnings:", ...warnings] : []),
    `${s.plugins} plugin(s), ${s.errors} with errors; ${s.mcp_servers} MCP server(s), ${s.hooks} hook(s)`,
  ].join("\n")
}

export default command({
  meta: { name: "plugins", description: "Check installed Claude Code plugins' manifests, MCP servers and hooks" },
  args: {
    registry: { type: "string", description: "installed_plugins.json to read (default: ~/.claude/plugins/installed_plugins.json)" },
  },
  run(ctx, args) {
    const report = auditPlugins(args.registry ?? paths.claudePluginRegistry())
    ctx.emit("PluginAudit", report, render)
    if (auditFailed(report)) process.exitCode = 1 // the report is the output; 1 tells CI it found problems
  },
})
