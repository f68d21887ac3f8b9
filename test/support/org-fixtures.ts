import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

// Org configs for tests and benchmarks, and an isolated HOME per test (the
// preload gives the whole test process one; a cache test needs its own).

/** A small, valid org config: two teams, a block, delegation for one team. */
export function sampleOrgConfig(): Record<string, any> {
  return {
    schema_version: "1.0",
    organization: { name: "Acme", id: "acme", contact: "platform@acme.test" },
    marketplaces: { acme: { source: "github", repo: "acme/claude-plugins" } },
    security: {
      blocked_plugins: ["evil-*@*"],
      blocked_mcp_servers: ["*.untrusted.test"],
      allow_stdio_mcp: false,
    },
    defaults: {
      allowed_plugins: ["*@acme", "*@claude-plugins-official"],
      enabled_plugins: ["lint@acme"],
      cache_ttl_hours: 24,
      session: { timeout_hours: 8 },
    },
    delegation: {
      teams: { allow_additional_plugins: ["platform"], allow_additional_mcp_servers: ["platform"] },
      projects: { inherit_team_delegation: true },
    },
    profiles: {
      platform: {
        description: "Platform engineering",
        additional_plugins: ["deploy@acme"],
        additional_mcp_servers: [{ name: "jira", type: "http", url: "https://jira.acme.test/mcp" }],
        delegation: { allow_project_overrides: true },
      },
      finance: { description: "Finance", additional_plugins: ["ledger@acme"] },
    },
  }
}

/** A large org config for benchmarks: `teams` profiles, `plugins` plugin refs, `mcpServers` servers spread over the teams. */
export function generateOrgConfig(size: { teams: number; plugins: number; mcpServers: number }): Record<string, any> {
  const plugin = (i: number) => `plugin-${i}@market-${i % 7}`
  const profiles: Record<string, any> = {}
  for (let t = 0; t < size.teams; t++) {
    const additional_plugins: string[] = []
    for (let i = t; i < size.plugins; i += size.teams) additional_plugins.push(plugin(i))
    const additional_mcp_servers = []
    for (let i = t; i < size.mcpServers; i += size.teams) {
      additional_mcp_servers.push({ name: `mcp-${i}`, type: i % 2 ? "http" : "sse", url: `https://mcp-${i}.tools-${i % 5}.acme.test/mcp`, headers: { "x-team": `team-${t}` } })
    }
    profiles[`team-${t}`] = {
      description: `Team ${t}`,
      additional_plugins,
      additional_mcp_servers,
      session: { timeout_hours: 4 + (t % 8) },
      delegation: { allow_project_overrides: t % 2 === 0 },
    }
  }
  return {
    schema_version: "1.0",
    organization: { name: "Bench Corp", id: "bench" },
    marketplaces: Object.fromEntries(Array.from({ length: 7 }, (_, m) => [`market-${m}`, { source: "github", repo: `bench/market-${m}` }])),
    security: {
      blocked_plugins: ["plugin-1?@*", "*-evil@*", "plugin-99*@market-3"],
      blocked_mcp_servers: ["*.tools-4.acme.test", "mcp-13"],
      blocked_base_images: ["*:latest"],
    },
    defaults: {
      allowed_plugins: ["*@market-*"],
      enabled_plugins: Array.from({ length: 20 }, (_, i) => plugin(200 + i)).filter((p) => !/^plugin-1\d@/.test(p)),
      cache_ttl_hours: 24,
    },
    delegation: { teams: { allow_additional_plugins: ["team-*"], allow_additional_mcp_servers: ["team-1*", "team-2*"] }, projects: { inherit_team_delegation: true } },
    profiles,
  }
}

export type Home = { dir: string; [Symbol.dispose](): void }

/**
 * Point XDG_CONFIG_HOME / XDG_CACHE_HOME / XDG_DATA_HOME at a fresh directory
 * for the scope (`using home = isolatedHome()`), restoring the previous values after.
 */
export function isolatedHome(): Home {
  const dir = mkdtempSync(join(tmpdir(), "scc-home-"))
  const names = ["XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"] as const
  const saved = names.map((n) => process.env[n])
  names.forEach((n, i) => {
    const sub = join(dir, [".config", ".cache", ".local/share"][i]!)
    mkdirSync(sub, { recursive: true })
    process.env[n] = sub
  })
  return {
    dir,
    [Symbol.dispose]() {
      names.forEach((n, i) => {
        if (saved[i] === undefined) delete process.env[n]
        else process.env[n] = saved[i]
      })
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Environment for a CLI run in its own home (pass as `env` to test/support/cli.ts). */
export function homeEnv(dir: string): Record<string, string> {
  return { HOME: dir, XDG_CONFIG_HOME: join(dir, ".config"), XDG_CACHE_HOME: join(dir, ".cache"), XDG_DATA_HOME: join(dir, ".local/share") }
}
