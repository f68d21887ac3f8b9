import { casefold, isAscii } from "./match"

// Normalised forms of the two kinds of references policy talks about.
//
// Plugins: `name@marketplace`. A bare `name` means the org's only marketplace
// when it defines exactly one; with none or several it is ambiguous, and the
// plugin is refused with a message that says how to write it.
//
// Images, for policy: casefolded, Docker Hub's defaults dropped
// (`docker.io/library/ubuntu` and `ubuntu` are one image), `:latest` added
// when neither tag nor digest is given; tags and digests are kept. Other
// registries and namespaces are kept as written (`ghcr.io/acme/tool` never
// equals `acme/tool`). A pattern without a tag or digest (`ubuntu`) matches
// every tag of that repository; `ubuntu:*` does too; `ubuntu:22.04` only that.

export type PluginRef = { ref: string; name: string; marketplace: string; folded: [full: string, name: string] }

export type PluginRefResult = { ok: true; plugin: PluginRef } | { ok: false; error: string }

/** `name@marketplace`, or a bare name resolved against the org's marketplaces. */
export function normalizePluginRef(raw: string, marketplaces: readonly string[]): PluginRefResult {
  const s = raw.trim()
  const at = s.lastIndexOf("@")
  let name = at === -1 ? s : s.slice(0, at)
  let marketplace = at === -1 ? "" : s.slice(at + 1)
  name = name.trim()
  marketplace = marketplace.trim()
  if (!name) return { ok: false, error: `Plugin '${raw}' has no name; write it as name@marketplace` }
  if (at !== -1 && !marketplace) return { ok: false, error: `Plugin '${raw}' has an empty marketplace; write it as name@marketplace` }
  if (at === -1) {
    if (marketplaces.length === 1) marketplace = marketplaces[0]!
    else if (marketplaces.length === 0)
      return { ok: false, error: `Plugin '${name}' names no marketplace and the org config defines none; write it as name@marketplace` }
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

function dropHubDefaults(path: string): string {
  for (const hub of HUB_REGISTRIES) {
    if (path.startsWith(hub)) {
      path = path.slice(hub.length)
      break
    }
  }
  if (path.startsWith("library/") && path.indexOf("/", 8) === -1) path = path.slice(8)
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
  const repo = dropHubDefaults(registryPath)
  let full = repo
  if (tag !== undefined) full += `:${tag}`
  if (digest !== undefined) full += `@${digest}`
  if (tag === undefined && digest === undefined) full += ":latest"
  return [full, repo]
}

/** The policy form of the normalised full reference (`ubuntu` -> `ubuntu:latest`). */
export function normalizeImage(raw: string): string {
  return imagePolicyForms(raw)[0]
}

/** How an image pattern is matched: casefolded, Docker Hub's defaults dropped, globs kept. */
export function imagePattern(pattern: string): string {
  return dropHubDefaults(casefold(pattern))
}
