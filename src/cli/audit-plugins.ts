import { command } from "./common"
import type { Enforcement } from "../audit/enforce"
import { auditFailed, auditPlugins, type AuditReport } from "../audit/plugins"
import type { Manifest } from "../audit/manifest"
import { ExitCode, NotFoundError } from "../errors"
import { table } from "../output"
import { paths } from "../paths"

// Exit 1 when a manifest (or the registry) is malformed or unreadable, 6 with
// --enforce when the org's policy blocks an installed plugin or MCP server
// (6 wins: it is the finding CI is for). The report is printed either way.

const where = (m: Manifest) => (m.line ? `${m.path}:${m.line}:${m.column}` : m.path)

type Output = AuditReport & { enforcement?: Enforcement }

function render(r: Output): string {
  const reg = `registry: ${r.registry.path} (${r.registry.status}${r.registry.format ? `, ${r.registry.format}` : ""})`
  const problems = [r.registry, ...r.plugins.flatMap((p) => [p.manifests.plugin, p.manifests.mcp, p.manifests.hooks, ...p.manifests.extra])]
    .filter((m) => m.status === "malformed" || m.status === "unreadable")
    .map((m) => `  ${m.status}: ${where(m)}: ${m.error}`)
  const warnings = r.plugins.flatMap((p) => p.warnings.map((w) => `  ${p.id}: ${w}`))
  const s = r.summary
  const out = [
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
  ]
  const e = r.enforcement
  if (e) {
    out.push(`policy (team ${e.team ?? "none"}): ${e.violations.length ? `${e.violations.length} violation(s)` : "no violations"}`)
    for (const v of e.violations) out.push(`  blocked ${v.target_type === "plugin" ? "plugin" : "MCP server"} ${v.item} (in ${v.plugin}): ${v.blocked_by}`)
    for (const x of e.exceptions) out.push(`  allowed by exception ${x.id}: ${x.lifted.map((l) => l.item).join(", ")} (${x.reason})`)
  }
  return out.join("\n")
}

export default command({
  meta: { name: "plugins", description: "Check installed Claude Code plugins' manifests, MCP servers and hooks (--enforce: against the org policy)" },
  args: {
    registry: { type: "string", description: "installed_plugins.json to read (default: ~/.claude/plugins/installed_plugins.json)" },
    enforce: { type: "boolean", description: "Also check plugins and their MCP servers against the org policy; exit 6 on a violation" },
    team: { type: "string", description: "With --enforce: the team whose policy exceptions apply (default: yours)" },
    offline: { type: "boolean", description: "With --enforce: use the cached org config only" },
  },
  async run(ctx, args) {
    // A registry the user named must exist; the default one may be absent (nothing installed yet).
    if (args.registry !== undefined && !(await Bun.file(args.registry).exists()))
      throw new NotFoundError(`the registry ${args.registry} does not exist`, { hint: "give the path of Claude Code's installed_plugins.json, or drop --registry to read ~/.claude/plugins/installed_plugins.json" })
    const report: Output = await auditPlugins(args.registry ?? paths.claudePluginRegistry())
    if (args.enforce) {
      const [{ enforcePolicy }, { loadOrgConfig }, { orgSettings }] = await Promise.all([import("../audit/enforce"), import("../org/load"), import("../org/settings")])
      const [org, settings] = await Promise.all([loadOrgConfig({ offline: args.offline }), args.team === undefined ? orgSettings() : undefined])
      for (const w of org.warnings) ctx.warn(w)
      report.enforcement = enforcePolicy(report.plugins, { org: org.config, team: args.team ?? settings?.team ?? null, now: new Date() })
      for (const w of report.enforcement.warnings) ctx.warn(w)
    }
    ctx.emit("PluginAudit", report, render)
    if (report.enforcement?.violations.length) process.exitCode = ExitCode.blocked
    else if (auditFailed(report)) process.exitCode = 1 // the report is the output; 1 tells CI it found problems
  },
})
