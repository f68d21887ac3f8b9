import * as v from "valibot"
import { computeEffectiveConfig, type MergeInput } from "../../src/governance/merge"
import type { Host } from "../../src/governance/stdio"
import { OrgConfig, ProjectConfig, type OrgConfigInput } from "../../src/org/schema"

// Inputs for merge tests, parsed by the real schemas so defaults are filled
// exactly as they are when the CLI loads a config.

export const NOW = new Date("2030-01-01T12:00:00Z")

export function org(input: Omit<OrgConfigInput, "schema_version" | "organization"> & Partial<OrgConfigInput> = {}): OrgConfig {
  return v.parse(OrgConfig, { schema_version: "1.0.0", organization: { name: "Acme" }, ...input })
}

export function project(input: v.InferInput<typeof ProjectConfig>): ProjectConfig {
  return v.parse(ProjectConfig, input)
}

/** A host whose file system is a map of path -> real path (absent: does not exist). */
export function fakeHost(files: Record<string, string> = {}): Host {
  return { realpath: (p) => files[p] ?? null }
}

export function merge(input: Partial<MergeInput> & { org: OrgConfig }) {
  return computeEffectiveConfig({ now: NOW, host: fakeHost(), ...input })
}

/** The org used by most tests: one marketplace, team 'finance' and team 'platform'. */
export function baseOrg(overrides: Partial<OrgConfigInput> = {}): OrgConfig {
  return org({
    marketplaces: { acme: { source: "github", repo: "acme/plugins" }, other: { source: "github", repo: "other/plugins" } },
    defaults: { enabled_plugins: ["lint@acme"] },
    profiles: {
      finance: { additional_plugins: ["ledger@acme"], additional_mcp_servers: [{ name: "books", type: "http", url: "https://books.acme.dev/mcp" }] },
      platform: { additional_plugins: ["deploy@acme"], delegation: { allow_project_overrides: true } },
    },
    ...overrides,
  })
}
