import { isAbsolute, join, normalize } from "../posix-path"

// The stdio MCP gate. A stdio server runs a command, so the org decides, in
// this order: are stdio servers allowed at all (security.allow_stdio_mcp), is
// the command an absolute path, and, with security.allowed_stdio_prefixes,
// does its real path (symlinks and `..` resolved) lie under a prefix's real
// path. A command missing on this host is a warning, never a block: the same
// config is explained on laptops that do not have every tool installed.

/** Facts about the machine, injected so the merge stays pure and testable. */
export type Host = {
  /** The real path (symlinks and `..` resolved), or null when nothing exists there. */
  realpath(path: string): string | null
}

/** The real file system, with answers cached for the life of the process. */
export function realHost(): Host {
  const cache = new Map<string, string | null>()
  return {
    realpath(path) {
      let real = cache.get(path)
      if (real !== undefined) return real
      try {
        // node:fs only when a stdio server is actually checked (it costs start-up time).
        real = (require("node:fs") as typeof import("node:fs")).realpathSync(path)
      } catch {
        real = null
      }
      cache.set(path, real)
      return real
    },
  }
}

export type StdioPolicy = { allow_stdio_mcp?: boolean; allowed_stdio_prefixes?: readonly string[] }

export type StdioVerdict = { blocked: string } | { blocked?: undefined; warning?: string }

/**
 * Where `path` really leads: the real path when it exists; otherwise the real
 * path of its deepest existing ancestor joined with the rest (a missing
 * directory cannot be a symlink, so `..` after it is resolved as written).
 */
export function resolveReal(path: string, host: Host): { real: string; exists: boolean } {
  const whole = host.realpath(path)
  if (whole !== null) return { real: whole, exists: true }
  const parts = path.split("/")
  for (let i = parts.length - 1; i > 0; i--) {
    const head = parts.slice(0, i).join("/") || "/"
    const real = host.realpath(head)
    if (real !== null) return { real: normalize(join(real, ...parts.slice(i))), exists: false }
  }
  return { real: normalize(path), exists: false }
}

function within(path: string, prefix: string): boolean {
  if (prefix === "/") return true
  const p = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix
  return path === p || path.startsWith(`${p}/`)
}

export function stdioGate(name: string, command: string, policy: StdioPolicy, host: Host): StdioVerdict {
  if (!policy.allow_stdio_mcp) return { blocked: "stdio MCP servers are disabled (security.allow_stdio_mcp: false)" }
  const cmd = command.trim()
  if (!isAbsolute(cmd)) return { blocked: `stdio command '${command}' is not an absolute path` }
  const { real, exists } = resolveReal(cmd, host)
  const prefixes = policy.allowed_stdio_prefixes ?? []
  if (prefixes.length > 0 && !prefixes.some((p) => within(real, resolveReal(p.trim(), host).real))) {
    const shown = real === cmd ? `'${cmd}'` : `'${cmd}' (real path '${real}')`
    return { blocked: `stdio command ${shown} is outside security.allowed_stdio_prefixes (${prefixes.map((p) => `'${p}'`).join(", ")})` }
  }
  if (!exists) return { warning: `MCP server '${name}': stdio command '${cmd}' does not exist on this host` }
  return {}
}
