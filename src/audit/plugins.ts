import { isAbsolute, join, resolve } from "../posix-path"
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
async function extract<T>(path: string, fn: (v: unknown, source: string) => T[] | string): Promise<{ manifest: Manifest; items: T[] }> {
  const { manifest, value } = await readManifest(path)
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
async function declared<T>(
  decl: unknown,
  key: string,
  parse: (v: unknown, source: string) => T[] | string,
  ctx: { root: string; source: string; extra: Manifest[]; warnings: string[] },
): Promise<T[]> {
  if (isObject(decl)) {
    const r = parse(decl, ctx.source)
    if (typeof r === "string") ctx.warnings.push(`plugin.json ${key}: ${r}`)
    return typeof r === "string" ? [] : r
  }
  const read = await Promise.all(referencedPaths(ctx.root, decl).map((path) => extract(path, parse)))
  ctx.extra.push(...read.map((r) => r.manifest))
  return read.flatMap((r) => r.items)
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Bun.file(path).stat()).isDirectory()
  } catch {
    return false
  }
}

export async function auditPlugin(p: InstalledPlugin): Promise<PluginAudit> {
  const warnings: string[] = []
  const root = p.installPath ?? ""
  const missing = (path: string): Manifest => ({ path, status: "missing" })
  const none = { manifest: missing(""), items: [] }
  const [installed, pluginRead, mcp, hk] = p.installPath
    ? await Promise.all([
        isDirectory(root),
        readManifest(join(root, ".claude-plugin", "plugin.json")),
        extract(join(root, ".mcp.json"), mcpServers),
        extract(join(root, "hooks", "hooks.json"), hooks),
      ])
    : [false, { manifest: missing(".claude-plugin/plugin.json") }, { ...none, manifest: missing(".mcp.json") }, { ...none, manifest: missing("hooks/hooks.json") }]
  if (!p.installPath) warnings.push("the registry entry has no installPath")
  else if (!installed) warnings.push(`install path ${root} does not exist (run /plugin in Claude Code to reinstall)`)
  let plugin = pluginRead.manifest
  const pj = pluginRead.value
  if (plugin.status === "parsed" && !isObject(pj)) plugin = shapeError(plugin, "plugin.json must be an object")
  const servers = [...mcp.items]
  const hookList = [...hk.items]
  const extra: Manifest[] = []
  if (plugin.status === "parsed" && isObject(pj) && p.installPath) {
    const more = { root, source: plugin.path, extra, warnings }
    servers.push(...(await declared(pj.mcpServers, "mcpServers", mcpServers, more)))
    hookList.push(...(await declared(pj.hooks, "hooks", hooks, more)))
  }
  const all = [plugin, mcp.manifest, hk.manifest, ...extra]
  const bad = all.some((m) => m.status === "malformed" || m.status === "unreadable")
  return { ...p, status: bad ? "error" : "ok", manifests: { plugin, mcp: mcp.manifest, hooks: hk.manifest, extra }, mcp_servers: servers, hooks: hookList, warnings }
}

export async function auditPlugins(registryPath: string): Promise<AuditReport> {
  const registry = await readRegistry(registryPath)
  const plugins = (await Promise.all(registry.plugins.map(auditPlugin))).sort((a, b) => a.id.localeCompare(b.id) || (a.scope ?? "").localeCompare(b.scope ?? ""))
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
