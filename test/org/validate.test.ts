import { expect, test } from "bun:test"
import { compareVersions, validateOrgConfig } from "../../src/org/validate"
import { VERSION } from "../../src/version"
import { generateOrgConfig, sampleOrgConfig } from "../support/org-fixtures"

test("a valid config passes with defaults filled in and no warnings", () => {
  const r = validateOrgConfig(sampleOrgConfig())
  expect(r.errors).toEqual([])
  expect(r.warnings).toEqual([])
  expect(r.config?.schema_version).toBe("1.0")
  expect(r.config?.security.safety_net.action).toBe("block")
  expect(r.config?.stats.user_identity_mode).toBe("hash")
  expect(r.config?.profiles.finance?.additional_mcp_servers).toEqual([])
  expect(validateOrgConfig(generateOrgConfig({ teams: 50, plugins: 1000, mcpServers: 200 })).errors).toEqual([])
})

test("errors name the JSON path of every problem", () => {
  const c = sampleOrgConfig()
  c.organization = {}
  c.profiles.finance.additional_mcp_servers = [{ name: "a", type: "http" }, { name: "b", type: "stdio" }, { name: "c", type: "ftp", url: "x" }]
  c.profiles["odd.team"] = { additional_plugins: [""] }
  c.stats = { retention_days: 0 }
  c.security.safety_net = { action: "explode" }
  const r = validateOrgConfig(c)
  expect(r.config).toBeUndefined()
  const byPath = Object.fromEntries(r.errors.map((e) => [e.path, e.message]))
  expect(byPath["organization.name"]).toBe("is required")
  expect(byPath["profiles.finance.additional_mcp_servers[0].url"]).toContain("needs a url")
  expect(byPath["profiles.finance.additional_mcp_servers[1].command"]).toContain("needs a command")
  expect(byPath["profiles.finance.additional_mcp_servers[2].type"]).toContain('"ftp"')
  expect(byPath['profiles["odd.team"].additional_plugins[0]']).toBe("must not be empty")
  expect(byPath["stats.retention_days"]).toBeDefined()
  expect(byPath["security.safety_net.action"]).toBeDefined()
})

test("schema_version major 2 is rejected with a hint to update; 1.x accepted", () => {
  for (const version of ["2.0", 2, "2"]) {
    const r = validateOrgConfig({ ...sampleOrgConfig(), schema_version: version })
    expect(r.errors.map((e) => e.path)).toEqual(["schema_version"])
    expect(r.errors[0]!.hint).toContain("update scc")
  }
  for (const version of ["1", "1.4", "1.4.2", 1]) expect(validateOrgConfig({ ...sampleOrgConfig(), schema_version: version }).errors).toEqual([])
  expect(validateOrgConfig({ ...sampleOrgConfig(), schema_version: undefined }).errors[0]!.path).toBe("schema_version")
})

test("unknown keys are kept and reported as warnings with their path, never fatal", () => {
  const c = sampleOrgConfig()
  c.telemetry = { on: true }
  c.security.future_switch = true
  c.profiles.platform.additional_mcp_servers[0].timeout_ms = 5
  c.profiles.platform.delegation.allow_everything = true
  const r = validateOrgConfig(c)
  expect(r.errors).toEqual([])
  expect(r.warnings).toEqual([
    "unknown key security.future_switch (kept, but this CLI ignores it)",
    "unknown key profiles.platform.additional_mcp_servers[0].timeout_ms (kept, but this CLI ignores it)",
    "unknown key profiles.platform.delegation.allow_everything (kept, but this CLI ignores it)",
    "unknown key telemetry (kept, but this CLI ignores it)",
  ])
  expect((r.config as Record<string, unknown>).telemetry).toEqual({ on: true })
  // profile names and marketplace names are data, not keys
  expect(validateOrgConfig(sampleOrgConfig()).warnings).toEqual([])
})

test("a blocked default plugin is a retroactive block (a warning, the config stays valid); one outside a non-empty allowlist is an error", () => {
  const c = sampleOrgConfig()
  c.defaults.enabled_plugins = ["lint@acme", "EVIL-tool@acme", "x@elsewhere"]
  const r = validateOrgConfig(c)
  expect(r.errors).toEqual([{ path: "defaults.enabled_plugins[2]", message: "'x@elsewhere' is enabled but matches no pattern in defaults.allowed_plugins" }])
  expect(r.warnings.join("\n")).toContain("defaults.enabled_plugins[1]: 'EVIL-tool@acme' is blocked by security.blocked_plugins pattern 'evil-*@*' (a retroactive block")
  c.defaults.allowed_plugins = []
  const ok = validateOrgConfig(c)
  expect(ok.errors).toEqual([])
  expect(ok.config).toBeDefined()
  // A policy exception lifts it, and validate says so.
  c.exceptions = [{ id: "SEC-1", reason: "vetted", allow: { plugins: ["evil-tool@acme"] } }]
  expect(validateOrgConfig(c).warnings.join("\n")).toContain("lifted by policy exception 'SEC-1'")
})

test("validate judges plugin refs with the merge's normaliser: @mkt/name, name@@mkt, and a bare name with no marketplaces", () => {
  const c = sampleOrgConfig()
  c.defaults.allowed_plugins = []
  c.defaults.enabled_plugins = ["@acme/lint", "bad@@acme"]
  c.profiles.finance.additional_plugins = ["also@@bad"]
  const r = validateOrgConfig(c)
  expect(r.errors.map((e) => e.path).sort()).toEqual(["defaults.enabled_plugins[1]", "profiles.finance.additional_plugins[0]"])
  expect(r.errors[0]!.message).toContain("'@@'")
  delete c.marketplaces
  c.defaults.enabled_plugins = ["solo"]
  c.profiles.finance.additional_plugins = []
  expect(validateOrgConfig(c).errors).toEqual([])
})

test("min_cli_version newer than this CLI is an error with a hint to update", () => {
  const [major] = VERSION.split(".")
  const r = validateOrgConfig({ ...sampleOrgConfig(), min_cli_version: `${Number(major) + 1}.0.0` })
  expect(r.errors[0]!.path).toBe("min_cli_version")
  expect(r.errors[0]!.hint).toContain("update scc")
  expect(validateOrgConfig({ ...sampleOrgConfig(), min_cli_version: VERSION }).errors).toEqual([])
  expect(validateOrgConfig({ ...sampleOrgConfig(), min_cli_version: "0.0.1" }).errors).toEqual([])
})

test("compareVersions is numeric per part", () => {
  expect(compareVersions("0.10.0", "0.9.9")).toBe(1)
  expect(compareVersions("1.2", "1.2.0")).toBe(0)
  expect(compareVersions("1.2.3-rc.1", "1.2.4")).toBe(-1)
})

test("a non-object is one error at the root", () => {
  expect(validateOrgConfig([1, 2]).errors).toEqual([{ path: "(root)", message: "the org config must be a JSON object" }])
})
