import type { ScopedLocalException } from "../../src/governance/exceptions"
import type { Host } from "../../src/governance/stdio"
import type { OrgConfigInput } from "../../src/org/schema"
import { NOW } from "./fixtures"

// A small seeded generator of merge inputs for property tests: names and
// patterns are drawn from small vocabularies so blocks, delegation and
// exceptions collide often. Same seed, same input.

export type Rng = { next(): number; int(n: number): number; bool(p?: number): boolean; pick<T>(xs: readonly T[]): T; some<T>(xs: readonly T[], max: number): T[] }

/** mulberry32: tiny, fast, good enough to spread test inputs. */
export function rng(seed: number): Rng {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const r: Rng = {
    next,
    int: (n) => Math.floor(next() * n),
    bool: (p = 0.5) => next() < p,
    pick: (xs) => xs[Math.floor(next() * xs.length)]!,
    some: (xs, max) => Array.from({ length: Math.floor(next() * (max + 1)) }, () => xs[Math.floor(next() * xs.length)]!),
  }
  return r
}

const NAMES = ["lint", "ledger", "deploy", "evil-tool", "Vendor", "core-x", "straße", "STRASSE"]
const MARKETS = ["acme", "other"]
const TEAMS = ["finance", "platform", "ops"]
const HOSTS = ["jira.acme.dev", "notes.untrusted.io", "docs.ACME.dev"]
const COMMANDS = ["/opt/tools/fs", "/opt/tools/escape", "/usr/bin/git-mcp", "relative/tool", "/opt/tools/../../etc/x"]
const IMAGES = ["ubuntu", "docker.io/library/ubuntu:22.04", "localhost/scc:base", "ghcr.io/acme/tool:1", "alpine@sha256:abc"]

function pluginRef(r: Rng): string {
  const name = r.pick(NAMES)
  return r.bool(0.8) ? `${name}@${r.pick(MARKETS)}` : name
}

function pattern(r: Rng, values: readonly string[]): string {
  const v = r.pick(values)
  switch (r.int(6)) {
    case 0:
      return v
    case 1:
      return `${v.slice(0, 2)}*`
    case 2:
      return `  ${v.toUpperCase()} `
    case 3:
      return `?${v.slice(1)}`
    case 4:
      return "*"
    default:
      return `*${v.slice(-3)}`
  }
}

function server(r: Rng) {
  const name = r.pick(["jira", "notes", "fs", "docs", "git"])
  if (r.bool(0.4)) return { name, type: "stdio" as const, command: r.pick(COMMANDS) }
  return { name, type: r.pick(["http", "sse"] as const), url: `https://${r.pick(HOSTS)}/mcp` }
}

const expiry = (r: Rng) => (r.bool(0.3) ? undefined : new Date(NOW.getTime() + (r.int(5) - 2) * 3_600_000).toISOString())

function allow(r: Rng) {
  return {
    plugins: r.some([...NAMES, ...NAMES.map((n) => `${n}@acme`)], 2).map((v) => pattern(r, [v])),
    mcp_servers: r.some(["jira", "notes", "fs", ...HOSTS, ...COMMANDS], 2).map((v) => pattern(r, [v])),
    base_images: r.some(IMAGES, 1).map((v) => pattern(r, [v])),
  }
}

export type Generated = { org: OrgConfigInput; team: string | null; project: object | null; local: ScopedLocalException[]; image?: string }

export function generate(seed: number): Generated {
  const r = rng(seed)
  const markets = r.bool() ? ["acme"] : MARKETS
  const profiles: NonNullable<OrgConfigInput["profiles"]> = {}
  for (const t of TEAMS) {
    profiles[t] = {
      additional_plugins: r.some([0, 1, 2, 3], 3).map(() => pluginRef(r)),
      additional_mcp_servers: r.some([0, 1], 2).map(() => server(r)),
      session: r.bool() ? { timeout_hours: r.int(12) } : undefined,
      sandbox: r.bool(0.3) ? { image: r.pick(IMAGES) } : undefined,
      delegation: { allow_project_overrides: r.bool() },
    }
  }
  const org: OrgConfigInput = {
    schema_version: "1",
    organization: { name: "Gen" },
    marketplaces: Object.fromEntries(markets.map((m) => [m, { source: "github" as const, repo: `${m}/p` }])),
    security: {
      blocked_plugins: r.some(NAMES, 2).map((n) => pattern(r, [n, `${n}@acme`])),
      blocked_mcp_servers: r.some(["jira", "notes", ...HOSTS, ...COMMANDS], 2).map((n) => pattern(r, [n])),
      blocked_base_images: r.some(IMAGES, 2).map((n) => pattern(r, [n])),
      allow_stdio_mcp: r.bool(),
      allowed_stdio_prefixes: r.bool() ? ["/opt/tools"] : [],
    },
    defaults: {
      enabled_plugins: r.some([0, 1, 2, 3], 3).map(() => pluginRef(r)),
      allowed_plugins: r.bool(0.3) ? r.some(NAMES, 3).map((n) => pattern(r, [n])) : [],
      allowed_mcp_servers: r.bool(0.3) ? r.some(["jira", "notes", "fs", ...HOSTS], 3).map((n) => pattern(r, [n])) : [],
      disabled_plugins: r.bool(0.2) ? [pattern(r, NAMES)] : [],
      mcp_servers: r.some([0, 1], 2).map(() => server(r)),
      session: r.bool() ? { timeout_hours: r.int(24) } : {},
      sandbox: r.bool() ? { image: r.pick(IMAGES) } : {},
    },
    delegation: {
      teams: { allow_additional_plugins: r.some(TEAMS, 2).map((t) => pattern(r, [t])), allow_additional_mcp_servers: r.some(TEAMS, 2).map((t) => pattern(r, [t])) },
      projects: { inherit_team_delegation: r.bool() },
    },
    profiles,
    exceptions: r.some([0, 1], 2).map((_, i) => ({ id: `P${i}`, reason: "gen", allow: allow(r), teams: r.bool(0.3) ? [pattern(r, TEAMS)] : undefined, expires_at: expiry(r) })),
  }
  const project = r.bool(0.6)
    ? { additional_plugins: r.some([0, 1], 2).map(() => pluginRef(r)), additional_mcp_servers: r.some([0], 1).map(() => server(r)), session: { timeout_hours: r.bool() ? 3 : undefined }, sandbox: r.bool(0.3) ? { image: r.pick(IMAGES) } : {} }
    : null
  const local: ScopedLocalException[] = r.some([0, 1, 2], 3).map((_, i) => ({
    id: `L${i}`,
    scope: r.pick(["user", "repo"] as const),
    reason: "gen",
    created_at: NOW.toISOString(),
    expires_at: expiry(r) ?? new Date(NOW.getTime() + 3_600_000).toISOString(),
    allow: allow(r),
  }))
  return { org, team: r.bool(0.8) ? r.pick(TEAMS) : null, project, local, image: r.bool(0.2) ? r.pick(IMAGES) : undefined }
}

/** /opt/tools exists; /opt/tools/escape is a symlink to /etc/escape; /opt/tools/fs is a real file. */
export const genHost: Host = {
  realpath: (p) =>
    ({ "/opt/tools": "/opt/tools", "/opt/tools/fs": "/opt/tools/fs", "/opt/tools/escape": "/etc/escape", "/usr/bin/git-mcp": "/usr/bin/git-mcp", "/opt": "/opt", "/usr/bin": "/usr/bin", "/etc": "/etc", "/usr": "/usr", "/": "/" })[p] ?? null,
}
