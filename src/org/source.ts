import { isAbsolute, resolve } from "../posix-path"
import { ConfigError } from "../errors"
import * as flag from "../flag"

// Where an org config comes from. A source is written by the user in one of
// four forms and resolves to a URL to fetch or a file to read:
//
//   https://host/path/org.json           fetched as is
//   github:owner/repo[@ref]:path         https://raw.githubusercontent.com/owner/repo/<ref|HEAD>/path
//   gitlab:group[/sub]/repo[@ref]:path   https://gitlab.com/api/v4/projects/<group%2Frepo>/repository/files/<path%2F...>/raw[?ref=<ref>]
//   ./org.json, /etc/org.json, ~/org.json, file:///etc/org.json    read from disk
//
// GitLab goes through the API's raw-file endpoint because, unlike the web
// `/-/raw/` route, it accepts `Authorization: Bearer <token>` for private
// projects; without a ref GitLab serves the default branch. Plain http:// is
// refused except for loopback hosts (a local mirror or a test server): the
// config decides what runs on the developer's machine, so it must not be
// readable or changeable on the wire.

export type ResolvedSource = { kind: "url"; spec: string; url: string } | { kind: "file"; spec: string; path: string }

const SETUP_HINT = "scc setup --org <https-url|github:owner/repo:path|gitlab:group/repo:path|file>"

export function resolveSource(spec: string, cwd = process.cwd()): ResolvedSource {
  const s = spec.trim()
  if (s === "") throw new ConfigError("the organization source is empty", { hint: SETUP_HINT })
  if (s.startsWith("github:")) return { kind: "url", spec: s, url: githubUrl(s) }
  if (s.startsWith("gitlab:")) return { kind: "url", spec: s, url: gitlabUrl(s) }
  if (s.startsWith("file://")) return { kind: "file", spec: s, path: decodeURIComponent(new URL(s).pathname) }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    checkFetchUrl(s)
    return { kind: "url", spec: s, url: new URL(s).href }
  }
  if (s === "~" || s.startsWith("~/")) return { kind: "file", spec: s, path: resolve(flag.home(), s.slice(2)) }
  return { kind: "file", spec: s, path: isAbsolute(s) ? s : resolve(cwd, s) }
}

/** Throws unless `url` is https, or http to a loopback host. Also applied to every redirect. */
export function checkFetchUrl(url: string): void {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new ConfigError(`'${url}' is not a valid URL`, { hint: SETUP_HINT })
  }
  if (u.protocol === "https:") return
  if (u.protocol === "http:") {
    if (isLoopback(u.hostname)) return
    throw new ConfigError(`refusing to fetch the org config over plain http from ${u.host}`, {
      hint: `publish it over https (http is only allowed for loopback hosts such as 127.0.0.1)`,
    })
  }
  throw new ConfigError(`unsupported org config URL scheme '${u.protocol}'`, { hint: SETUP_HINT })
}

export function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "")
  if (h === "localhost" || h.endsWith(".localhost")) return true
  if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h)
  return m !== null && m.slice(1).every((n) => Number(n) <= 255)
}

type Shorthand = { repo: string; ref?: string; path: string }

function parseShorthand(spec: string, host: "github" | "gitlab"): Shorthand {
  const body = spec.slice(host.length + 1)
  const colon = body.indexOf(":")
  const example = `${host}:${host === "github" ? "owner/repo" : "group/repo"}[@ref]:path/to/org.json`
  const bad = (why: string) => new ConfigError(`invalid ${host} source '${spec}': ${why}`, { hint: `write it as ${example}` })
  if (colon === -1) throw bad("missing ':path'")
  const [repoPart, ref] = splitOnce(body.slice(0, colon), "@")
  const path = body.slice(colon + 1).replace(/^\/+/, "")
  const segments = repoPart.split("/")
  if (segments.some((x) => x === "" || x === "." || x === "..")) throw bad("the repository must be owner/repo")
  if (host === "github" ? segments.length !== 2 : segments.length < 2) throw bad(`the repository must be ${host === "github" ? "owner/repo" : "group[/subgroup]/repo"}`)
  if (ref !== undefined && ref === "") throw bad("empty ref after '@'")
  if (path === "" || path.split("/").some((x) => x === "..")) throw bad("missing or invalid file path")
  return { repo: repoPart, ref, path }
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep)
  return i === -1 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)]
}

function githubUrl(spec: string): string {
  const { repo, ref, path } = parseShorthand(spec, "github")
  const enc = (p: string) => p.split("/").map(encodeURIComponent).join("/")
  return `https://raw.githubusercontent.com/${enc(repo)}/${enc(ref ?? "HEAD")}/${enc(path)}`
}

function gitlabUrl(spec: string): string {
  const { repo, ref, path } = parseShorthand(spec, "gitlab")
  const query = ref === undefined ? "" : `?ref=${encodeURIComponent(ref)}`
  return `https://gitlab.com/api/v4/projects/${encodeURIComponent(repo)}/repository/files/${encodeURIComponent(path)}/raw${query}`
}
