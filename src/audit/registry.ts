import { isObject, readManifest, shapeError, type Manifest } from "./manifest"

// Claude Code's plugin registry, ~/.claude/plugins/installed_plugins.json.
// Version 2 (current): {"version":2,"plugins":{"name@marketplace":[{scope,
// installPath, version, projectPath?, ...}]}}, one record per install scope.
// Version 1: the same map with one record object per plugin. The oldest form
// is a plain list of records naming the plugin (`id` or `name`), bare or under
// `plugins`.

export type InstalledPlugin = {
  /** `name@marketplace` as Claude Code keys it (or the bare name). */
  id: string
  name: string
  marketplace: string | null
  scope: string | null
  version: string | null
  installPath: string | null
  projectPath?: string
}

export type RegistryFormat = "v2" | "v1" | "list"

export type Registry = { manifest: Manifest & { format?: RegistryFormat }; plugins: InstalledPlugin[] }

const str = (x: unknown) => (typeof x === "string" && x !== "" ? x : null)

function record(id: string, r: Record<string, unknown>): InstalledPlugin {
  const at = id.lastIndexOf("@")
  const p: InstalledPlugin = {
    id,
    name: at > 0 ? id.slice(0, at) : id,
    marketplace: at > 0 ? id.slice(at + 1) : (str(r.marketplace) ?? null),
    scope: str(r.scope),
    version: str(r.version),
    installPath: str(r.installPath) ?? str(r.path),
  }
  if (typeof r.projectPath === "string") p.projectPath = r.projectPath
  return p
}

function fromList(list: unknown[]): InstalledPlugin[] {
  return list.filter(isObject).map((r) => {
    const name = str(r.id) ?? str(r.name) ?? "(unnamed)"
    const mp = str(r.marketplace)
    return record(mp && !name.includes("@") ? `${name}@${mp}` : name, r)
  })
}

export async function readRegistry(path: string): Promise<Registry> {
  const { manifest, value } = await readManifest(path)
  if (manifest.status !== "parsed") return { manifest, plugins: [] }
  if (Array.isArray(value)) return { manifest: { ...manifest, format: "list" }, plugins: fromList(value) }
  if (!isObject(value)) return { manifest: shapeError(manifest, "expected an object with `plugins`"), plugins: [] }
  const plugins = value.plugins
  if (Array.isArray(plugins)) return { manifest: { ...manifest, format: "list" }, plugins: fromList(plugins) }
  if (!isObject(plugins)) return { manifest: shapeError(manifest, "`plugins` must be an object (name@marketplace -> installs)"), plugins: [] }
  const out: InstalledPlugin[] = []
  let sawList = false
  for (const [id, entry] of Object.entries(plugins)) {
    if (Array.isArray(entry)) {
      sawList = true
      for (const r of entry) if (isObject(r)) out.push(record(id, r))
    } else if (isObject(entry)) out.push(record(id, entry))
  }
  const format: RegistryFormat = value.version === 2 || sawList ? "v2" : "v1"
  return { manifest: { ...manifest, format }, plugins: out }
}
