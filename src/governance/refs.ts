import { casefold, isAscii } from "./match"

// Normalised forms of the two kinds of references policy talks about, as
// upstream scc normalises them. One function each, used by `config
// validate`, the merge and the audit, so the three always agree.
//
// Plugins: `name@marketplace`. A bare `name` means the org's only marketplace
// when it defines exactly one, Claude Code's official marketplace
// (`claude-plugins-official`) when it defines none; with several it is
// ambiguous, and the plugin is refused with a message that says how to write
// it. `@mkt/name` (npm style) is `name@mkt`; `name@@mkt` is invalid.
//
// Images, for policy: casefolded and fully qualified, the way the container
// engine resolves them: `ubuntu` is `docker.io/library/ubuntu:latest`,
// `acme/tool` is `docker.io/acme/tool:latest`, and Docker Hub's other names
// (index.docker.io, registry-1.docker.io) are docker.io. Tags and digests
// are kept. Patterns are qualified the same way, so `docker.io/*` means
// Docker Hub only and `ubuntu` means Docker Hub's ubuntu; a pattern whose
// first part is a glob (`*`, `*/evil/*`) is kept as written. A pattern
// without a tag or digest matches every tag of that repository; `ubuntu:*`
// does too; `ubuntu:22.04` only that.

/** Claude Code's official marketplace: where a bare plugin name points when the org defines none. */
export const OFFICIAL_MARKETPLACE = "claude-plugins-official"

export type PluginRef = { ref: string; name: string; marketplace: string; folded: [full: string, name: string] }

export type PluginRefResult = { ok: true; plugin: PluginRef } | { ok: false; error: string }

/** `name@marketplace`, `@marketplace/name`, or a bare name resolved against the org's marketplaces. */
export function normalizePluginRef(raw: string, marketplaces: readonly string[]): PluginRefResult {
  const s = raw.trim()
  if (s.includes("@@")) return { ok: false, error: `Plugin '${raw}' has '@@'; write it as name@marketplace` }
  let name: string
  let marketplace: string
  let at: number
  const npm = /^@([^@/]+)\/([^@/]+)$/.exec(s)
  if (npm) {
    ;[name, marketplace, at] = [npm[2]!, npm[1]!, 0]
  } else {
    at = s.lastIndexOf("@")
    if (s.indexOf("@") !== at) return { ok: false, error: `Plugin '${raw}' has more than one '@'; write it as name@marketplace` }
    name = at === -1 ? s : s.slice(0, at)
    marketplace = at === -1 ? "" : s.slice(at + 1)
  }
  name = name.trim()
  marketplace = marketplace.trim()
  if (!name) return { ok: false, error: `Plugin '${raw}' has no name; write it as name@marketplace` }
  if (at !== -1 && !marketplace) return { ok: false, error: `Plugin '${raw}' has an empty marketplace; write it as name@marketplace` }
  if (at === -1) {
    if (marketplaces.length === 1) marketplace = marketplaces[0]!
    else if (marketplaces.length === 0) marketplace = OFFICIAL_MARKETPLACE
    else
      return {
        ok: false,
        error: `Plugin '${name}' names no marketplace and the org config defines ${marketplaces.length} (${marketplaces.join(", ")}); write it as name@marketplace`,
      }
  }
  const ref = `${name}@${marketplace}`
  const full = casefold(ref)
  // ASCII folding keeps lengths, so the folded name is a prefix of the folded ref.
  const foldedName = isAscii(ref) ? full.slice(0, name.length) : casefold(name)
  return { ok: true, plugin: { ref, name, marketplace, folded: [full, foldedName] } }
}

const HUB_REGISTRIES = ["docker.io/", "index.docker.io/", "registry-1.docker.io/"]

type ImageParts = { registryPath: string; tag?: string; digest?: string }

function splitImage(ref: string): ImageParts {
  let rest = ref
  let digest: string | undefined
  const at = rest.indexOf("@")
  if (at !== -1) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
  }
  let tag: string | undefined
  const colon = rest.indexOf(":", rest.lastIndexOf("/") + 1)
  if (colon !== -1) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
  }
  return { registryPath: rest, tag, digest }
}

const GLOB = /[*?[]/

/** `docker.io/library/name` for a Docker Hub path; other registries kept. `path` is casefolded, without tag or digest. */
function qualify(path: string): string {
  const slash = path.indexOf("/")
  const first = slash === -1 ? "" : path.slice(0, slash)
  if (GLOB.test(first)) return path // a glob where the registry would be: as written
  const hasRegistry = slash !== -1 && (first.includes(".") || first.includes(":") || first === "localhost")
  if (!hasRegistry) return slash === -1 ? `docker.io/library/${path}` : `docker.io/${path}`
  for (const hub of HUB_REGISTRIES) if (path.startsWith(hub)) return `docker.io/${path.slice(hub.length)}`
  return path
}

/** The image as the container engine gets it: as written, plus `:latest` when untagged. */
export function imageRef(raw: string): string {
  const s = raw.trim()
  const { tag, digest } = splitImage(s)
  return tag === undefined && digest === undefined ? `${s}:latest` : s
}

/** The casefolded policy forms of an image: the full reference, then the bare repository. */
export function imagePolicyForms(raw: string): [full: string, repository: string] {
  const { registryPath, tag, digest } = splitImage(casefold(raw))
  const repo = qualify(registryPath)
  let full = repo
  if (tag !== undefined) full += `:${tag}`
  if (digest !== undefined) full += `@${digest}`
  if (tag === undefined && digest === undefined) full += ":latest"
  return [full, repo]
}

/** The policy form of the normalised full reference (`ubuntu` -> `docker.io/library/ubuntu:latest`). */
export function normalizeImage(raw: string): string {
  return imagePolicyForms(raw)[0]
}

/** How an image pattern is matched: casefolded and qualified as an image is, globs kept. */
export function imagePattern(pattern: string): string {
  const p = casefold(pattern)
  if (GLOB.test(p[0] ?? "")) return p // `*`, `*/evil/*`: as written
  const { registryPath, tag, digest } = splitImage(p)
  let out = qualify(registryPath)
  if (tag !== undefined) out += `:${tag}`
  if (digest !== undefined) out += `@${digest}`
  return out
}
