import { existsSync } from "node:fs"
import { isAbsolute, join, resolve } from "node:path"
import { isObject, readManifest, shapeError, type Manifest, type ManifestStatus } from "./manifest"
import { readRegistry, type InstalledPlugin, type RegistryFormat } from "./registry"

// `audit plugins`: every installed plugin's manifests, MCP servers and hooks.
// Per plugin: `.claude-plugin/plugin.json`, `.mcp.json` (servers bare or under
// `mcpServers`) and `hooks/hooks.json` (events under `hooks`); plugin.json may
// also declare `mcpServers` / `hooks` inline or as paths to more files.

export type McpServerInfo = {
  name: string
  /** `type` as declared; `stdio` when only a command is given; `unknown` otherwise. */
  type: string
  command?: string
  url?: string
  /** The manifest that declares it. */
  source: string
}

export type HookInfo = { event: string; matcher: string | null; type: string; command?: string; source: string }

export type PluginAudit = InstalledPlugin & {
  /** `error` when a manifest is malformed or unreadable. */
  status: "ok" | "error"
  manifests: { plugin: Manifest; mcp: Manifest; hooks: Manifest; extra: Manifest[] }
  mcp_servers: McpServerInfo[]
  hooks: HookInfo[]
  warnings: string[]
}

export type AuditSummary = {
  plugins: number
  ok: number
  errors: number
  manifests: Record<ManifestStatus, number>
  mcp_servers: number
  hooks: number
}

export type AuditReport = {
  schemaVersion: 1
  registry: Manifest & { format?: RegistryFormat }
  summary: AuditSummary
  plugins: PluginAudit[]
}

const str = (x: unknown) => (typeof x === "string" && x !== "" ? x : undefined)

function mcpServers(value: unknown, source: string): McpServerInfo[] | string {
  if (!isObject(value)) return "expected an object of MCP servers"
  const servers = isObject(value.mcpServers) ? value.mcpServers : value
  const out: McpServerInfo[] = []
  for (const [name, s] of Object.entries(servers)) {
    if (!isObject(s)) continue
    const info: McpServerInfo = { name, type: str(s.type) ?? (str(s.command) ? "stdio" : "unknown"), source }
    if (str(s.command)) info.command = s.command as string
    if (str(s.url)) info.url = s.url as string
    out.push(info)
  }
  return out
}

function hooks(value: unknown, source: string): HookInfo[] | string {
  if (!isObject(value)) return "expected an object of hook events"
  const events = isObject(value.hooks) ? value.hooks : value
  const out: HookInfo[] = []
  for (const [event, groups] of Object.entries(events)) {
    if (!Array.isArray(groups)) continue
    for (const g of groups) {
      if (!isObject(g) || !Array.isArray(g.hooks)) continue
      for (const h of g.hooks) {
        if (!isObject(h)) continue
        const info: HookInfo = { event, matcher: str(g.matcher) ?? null, type: str(h.type) ?? "unknown", source }
        if (str(h.command)) info.command = h.command as string
        out.push(info)
      }
    }
  }
  return out
}

/** Read a manifest and extract from it; a wrong shape makes the manifest malformed. */
function extract<T>(path: string, fn: (v: unknown, source: string) => T[] | string): { manifest: Manifest; items: T[] } {
  const { manifest, value } = readManifest(path)
  if (manifest.status !== "parsed") return { manifest, items: [] }
  const r = fn(value, path)
  return typeof r === "string" ? { manifest: shapeError(manifest, r), items: [] } : { manifest, items: r }
}

function referencedPaths(root: string, ref: unknown): string[] {
  const list = Array.isArray(ref) ? ref : [ref]
  return list
    .filter((p): p is string => typeof p === "string" && p !== "")
    .map((p) => p.replaceAll("${CLAUDE_PLUGIN_ROOT}", root))
    .map((p) => (isAbsolute(p) ? p : resolve(root, p)))
}

/** What plugin.json declares under `key`: inline (an object) or in the files it names. */
function declared<T>(
  decl: unknown,
  key: string,
  parse: (v: unknown, source: string) => T[] | string,
  ctx: { root: string; source: string; extra: Manifest[]; warnings: string[] },
): T[] {
  if (isObject(decl)) {
    const r = parse(decl, ctx.source)
    if (typeof r === "string") ctx.warnings.push(`plugin.json ${key}: ${r}`)
    return typeof r === "string" ? [] : r
  }
  return referencedPaths(ctx.root, decl).flatMap((path) => {
    const r = extract(path, parse)
    ctx.extra.push(r.manifest)
    return r.items
  })
}

export function auditPlugin(p: InstalledPlugin): PluginAudit {
  const warnings: string[] = []
  const root = p.installPath ?? ""
  if (!p.installPath) warnings.push("the registry entry has no installPath")
  else if (!existsSync(root)) warnings.push(`install path ${root} does not exist (run /plugin in Claude Code to reinstall)`)
  const missing = (path: string): Manifest => ({ path, status: "missing" })
  const at = (...parts: string[]) => join(root, ...parts)

  const pluginRead = p.installPath ? readManifest(at(".claude-plugin", "plugin.json")) : { manifest: missing(".claude-plugin/plugin.json") }
  let plugin = pluginRead.manifest
  const pj = pluginRead.value
  if (plugin.status === "parsed" && !isObject(pj)) plugin = shapeError(plugin, "plugin.json must be an object")
  const mcp = p.installPath ? extract(at(".mcp.json"), mcpServers) : { manifest: missing(".mcp.json"), items: [] }
  const hk = p.installPath ? extract(at("hooks", "hooks.json"), hooks) : { manifest: missing("hooks/hooks.json"), items: [] }
  const servers = [...mcp.items]
  const hookList = [...hk.items]
  const extra: Manifest[] = []
  if (plugin.status === "parsed" && isObject(pj) && p.installPath) {
    const more = { root, source: plugin.path, extra, warnings }
    servers.push(...declared(pj.mcpServers, "mcpServers", mcpServers, more))
    hookList.push(...declared(pj.hooks, "hooks", hooks, more))
  }
  const all = [plugin, mcp.manifest, hk.manifest, ...extra]
  const bad = all.some((m) => m.status === "malformed" || m.status === "unreadable")
  return { ...p, status: bad ? "error" : "ok", manifests: { plugin, mcp: mcp.manifest, hooks: hk.manifest, extra }, mcp_servers: servers, hooks: hookList, warnings }
}

export function auditPlugins(registryPath: string): AuditReport {
  const registry = readRegistry(registryPath)
  const plugins = registry.plugins.map(auditPlugin).sort((a, b) => a.id.localeCompare(b.id) || (a.scope ?? "").localeCompare(b.scope ?? ""))
  const manifests: Record<ManifestStatus, number> = { parsed: 0, missing: 0, malformed: 0, unreadable: 0 }
  for (const p of plugins) for (const m of [p.manifests.plugin, p.manifests.mcp, p.manifests.hooks, ...p.manifests.extra]) manifests[m.status]++
  const errors = plugins.filter((p) => p.status === "error").length
  return {
    schemaVersion: 1,
    registry: registry.manifest,
    summary: {
      plugins: plugins.length,
      ok: plugins.length - errors,
      errors,
      manifests,
      mcp_servers: plugins.reduce((n, p) => n + p.mcp_servers.length, 0),
      hooks: plugins.reduce((n, p) => n + p.hooks.length, 0),
    },
    plugins,
  }
}

/** Exit 1 material: a malformed or unreadable registry or manifest. */
export function auditFailed(report: AuditReport): boolean {
  return report.registry.status === "malformed" || report.registry.status === "unreadable" || report.summary.errors > 0
}
