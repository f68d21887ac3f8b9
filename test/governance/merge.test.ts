import { expect, test } from "bun:test"
import { NotFoundError } from "../../src/errors"
import type { OrgConfigInput } from "../../src/org/schema"
import { baseOrg, fakeHost, merge, org, project } from "./fixtures"

const delegated = { teams: { allow_additional_plugins: ["plat*"], allow_additional_mcp_servers: ["plat*"] }, projects: { inherit_team_delegation: true } }

test("org defaults, then the team, then the project accumulate plugins with their sources", () => {
  const r = merge({ org: baseOrg({ delegation: delegated }), team: "platform", project: project({ additional_plugins: ["repo-lint@acme"] }) })
  expect(r.effective.plugins).toEqual(["lint@acme", "deploy@acme", "repo-lint@acme"])
  const sources = r.decisions.filter((d) => d.field === "plugins").map((d) => [d.value, d.source])
  expect(sources).toEqual([
    ["lint@acme", "org.defaults"],
    ["deploy@acme", "team.platform"],
    ["repo-lint@acme", "project"],
  ])
  expect(r.blocked).toEqual([])
  expect(r.denied).toEqual([])
  expect(r.effective.marketplaces).toEqual({ acme: { source: "github", repo: "acme/plugins" } })
})

test("team additions need the team to match delegation.teams; the denial reads exactly", () => {
  const r = merge({ org: baseOrg({ delegation: delegated }), team: "finance" })
  expect(r.effective.plugins).toEqual(["lint@acme"])
  expect(r.effective.mcp_servers).toEqual([])
  expect(r.denied).toEqual([
    { item: "ledger@acme", target_type: "plugin", requested_by: "team", reason: "Team 'finance' not allowed to add plugins" },
    { item: "books", target_type: "mcp_server", requested_by: "team", reason: "Team 'finance' not allowed to add MCP servers" },
  ])
})

test("project additions need both switches, and the org switch wins", () => {
  const proj = project({ additional_plugins: ["repo-lint@acme"] })
  // org off, team on: the org's reason
  const orgOff = merge({ org: baseOrg({ delegation: { ...delegated, projects: { inherit_team_delegation: false } } }), team: "platform", project: proj })
  expect(orgOff.denied).toEqual([
    { item: "repo-lint@acme", target_type: "plugin", requested_by: "project", reason: "Org policy disables project overrides (delegation.projects.inherit_team_delegation: false)" },
  ])
  // org on, team off
  const withFinance = baseOrg({ delegation: { ...delegated, teams: { allow_additional_plugins: ["*"] } } })
  const teamOff = merge({ org: withFinance, team: "finance", project: proj })
  expect(teamOff.denied.filter((d) => d.requested_by === "project")).toEqual([
    { item: "repo-lint@acme", target_type: "plugin", requested_by: "project", reason: "Team 'finance' disabled project overrides (allow_project_overrides: false)" },
  ])
  // both off: still the org's reason
  const bothOff = merge({ org: baseOrg(), team: "finance", project: proj })
  expect(bothOff.denied.find((d) => d.requested_by === "project")?.reason).toContain("inherit_team_delegation: false")
  // no team at all
  const noTeam = merge({ org: baseOrg({ delegation: delegated }), project: proj })
  expect(noTeam.denied[0]!.reason).toContain("No team selected")
  expect(noTeam.effective.plugins).toEqual(["lint@acme"])
})

test("security comes before delegation: a blocked, undelegated addition is blocked, not denied; the original pattern is quoted", () => {
  const r = merge({ org: baseOrg({ security: { blocked_plugins: ["  LEDGER*  "] } }), team: "finance" })
  expect(r.blocked).toEqual([{ item: "ledger@acme", target_type: "plugin", blocked_by: "LEDGER*", source: "org.security", requested_by: "team.finance" }])
  expect(r.denied.map((d) => d.item)).toEqual(["books"])
})

test("org defaults are checked against security blocks too", () => {
  const r = merge({ org: baseOrg({ security: { blocked_plugins: ["*@acme"] } }) })
  expect(r.effective.plugins).toEqual([])
  expect(r.blocked[0]).toMatchObject({ item: "lint@acme", blocked_by: "*@acme", requested_by: "org.defaults" })
})

test("plugin patterns match the full ref or the bare name", () => {
  const byName = merge({ org: baseOrg({ security: { blocked_plugins: ["lint"] } }) })
  expect(byName.effective.plugins).toEqual([])
  const otherMarket = merge({ org: baseOrg({ security: { blocked_plugins: ["lint@other"] } }) })
  expect(otherMarket.effective.plugins).toEqual(["lint@acme"])
})

test("additions outside a non-empty allowlist are denied; org defaults are not held to it", () => {
  const o = baseOrg({ delegation: delegated, defaults: { enabled_plugins: ["lint@acme"], allowed_plugins: ["core-*"] } })
  const r = merge({ org: o, team: "platform" })
  expect(r.effective.plugins).toEqual(["lint@acme"])
  expect(r.denied).toEqual([{ item: "deploy@acme", target_type: "plugin", requested_by: "team", reason: "Plugin 'deploy@acme' is not in defaults.allowed_plugins" }])
})

test("defaults.disabled_plugins turns off org defaults; a delegated team addition turns one back on", () => {
  const o = baseOrg({
    delegation: delegated,
    defaults: { enabled_plugins: ["lint@acme", "deploy@acme"], disabled_plugins: ["deploy*"] },
  })
  expect(merge({ org: o }).effective.plugins).toEqual(["lint@acme"])
  expect(merge({ org: o }).decisions.find((d) => d.value === "deploy@acme")?.reason).toBe("disabled by defaults.disabled_plugins ('deploy*')")
  expect(merge({ org: o, team: "platform" }).effective.plugins).toEqual(["lint@acme", "deploy@acme"])
})

test("a bare plugin name resolves to the only marketplace, else the addition is denied saying why", () => {
  const one = org({ marketplaces: { acme: { source: "github", repo: "a/b" } }, defaults: { enabled_plugins: ["lint"] } })
  expect(merge({ org: one }).effective.plugins).toEqual(["lint@acme"])
  const two = baseOrg({ delegation: delegated, profiles: { platform: { additional_plugins: ["deploy"] } } })
  const r = merge({ org: two, team: "platform" })
  expect(r.denied[0]!.reason).toBe("Plugin 'deploy' names no marketplace and the org config defines 2 (acme, other); write it as name@marketplace")
  const orgLevel = merge({ org: baseOrg({ defaults: { enabled_plugins: ["lint"] } }) })
  expect(orgLevel.effective.plugins).toEqual([])
  expect(orgLevel.warnings[0]).toContain("defaults.enabled_plugins: Plugin 'lint' names no marketplace")
})

test("marketplaces are the ones the effective plugins need; an unknown one is a warning", () => {
  const r = merge({ org: baseOrg({ defaults: { enabled_plugins: ["lint@acme", "x@claude-official"] } }) })
  expect(Object.keys(r.effective.marketplaces)).toEqual(["acme"])
  expect(r.warnings).toContain("Marketplace 'claude-official' is not defined in the org config's marketplaces; Claude Code must already know it")
})

test("MCP servers are matched by name, then URL host, then stdio command", () => {
  const servers = [
    { name: "Jira", type: "http" as const, url: "https://jira.example.com/mcp" },
    { name: "notes", type: "sse" as const, url: "https://notes.untrusted.io/sse" },
    { name: "fs", type: "stdio" as const, command: "/usr/bin/evil-fs" },
    { name: "ok", type: "http" as const, url: "https://ok.acme.dev" },
  ]
  const o = org({
    security: { blocked_mcp_servers: ["jira", "*.UNTRUSTED.io", "/usr/bin/evil-*"], allow_stdio_mcp: true },
    defaults: { mcp_servers: servers },
  })
  const r = merge({ org: o, host: fakeHost({ "/usr/bin/evil-fs": "/usr/bin/evil-fs" }) })
  expect(r.effective.mcp_servers.map((s) => s.name)).toEqual(["ok"])
  expect(r.effective.mcp_servers[0]).toEqual({ name: "ok", type: "http", url: "https://ok.acme.dev", source: "org.defaults" })
  expect(r.blocked.map((b) => [b.item, b.blocked_by])).toEqual([
    ["Jira", "jira"],
    ["notes", "*.UNTRUSTED.io"],
    ["fs", "/usr/bin/evil-*"],
  ])
})

test("an sse/http server whose URL cannot be parsed is blocked: its host cannot be checked", () => {
  const r = merge({ org: org({ defaults: { mcp_servers: [{ name: "x", type: "http", url: "evil.com/mcp" }] } }) })
  expect(r.blocked[0]!.blocked_by).toBe("url 'evil.com/mcp' is not a valid URL, so its host cannot be checked")
})

test("stdio servers pass the gate; a command missing on the host is a warning and the server stays", () => {
  const srv = (name: string, command: string) => ({ name, type: "stdio" as const, command })
  const o = (security: NonNullable<OrgConfigInput["security"]>) => org({ security, defaults: { mcp_servers: [srv("a", "/opt/tools/a"), srv("b", "rel")] } })
  const off = merge({ org: o({}) })
  expect(off.blocked.map((b) => b.blocked_by)).toEqual(["stdio MCP servers are disabled (security.allow_stdio_mcp: false)", "stdio MCP servers are disabled (security.allow_stdio_mcp: false)"])
  const on = merge({ org: o({ allow_stdio_mcp: true, allowed_stdio_prefixes: ["/opt/tools"] }), host: fakeHost({ "/opt/tools": "/opt/tools" }) })
  expect(on.effective.mcp_servers.map((s) => s.name)).toEqual(["a"])
  expect(on.blocked).toEqual([{ item: "b", target_type: "mcp_server", blocked_by: "stdio command 'rel' is not an absolute path", source: "org.security", requested_by: "org.defaults" }])
  expect(on.warnings).toEqual(["MCP server 'a': stdio command '/opt/tools/a' does not exist on this host"])
})

test("a later layer's MCP server of the same name replaces the earlier one", () => {
  const o = baseOrg({
    delegation: delegated,
    defaults: { mcp_servers: [{ name: "docs", type: "http", url: "https://docs.acme.dev" }] },
    profiles: { platform: { additional_mcp_servers: [{ name: "docs", type: "http", url: "https://docs.platform.acme.dev" }] } },
  })
  const r = merge({ org: o, team: "platform" })
  expect(r.effective.mcp_servers).toEqual([{ name: "docs", type: "http", url: "https://docs.platform.acme.dev", source: "team.platform" }])
  expect(r.decisions.find((d) => d.field === "mcp_servers.docs" && d.source === "team.platform")?.reason).toContain("replaces the server from org.defaults")
})

test("session timeout: team overrides org; project overrides only when delegated", () => {
  const o = baseOrg({
    delegation: delegated,
    defaults: { session: { timeout_hours: 12 } },
    profiles: { platform: { session: { timeout_hours: 8 }, delegation: { allow_project_overrides: true } }, finance: { session: { timeout_hours: 6 } } },
  })
  const p = project({ session: { timeout_hours: 4 } })
  expect(merge({ org: o }).effective.session.timeout_hours).toBe(12)
  const platform = merge({ org: o, team: "platform", project: p })
  expect(platform.effective.session.timeout_hours).toBe(4)
  expect(platform.decisions.find((d) => d.field === "session.timeout_hours")?.source).toBe("project")
  const finance = merge({ org: o, team: "finance", project: p })
  expect(finance.effective.session.timeout_hours).toBe(6)
  const d = finance.decisions.find((x) => x.field === "session.timeout_hours")!
  expect(d.source).toBe("team.finance")
  expect(d.reason).toContain("the project's 4h is ignored: Team 'finance' disabled project overrides (allow_project_overrides: false)")
  expect(finance.warnings.some((w) => w.includes("session.timeout_hours (4) is ignored"))).toBe(true)
  expect(merge({ org: org() }).effective.session).toEqual({ timeout_hours: null, auto_resume: false })
})

test("network_policy: the team overrides the org default; safety_net comes from security with its defaults", () => {
  const o = baseOrg({
    defaults: { network_policy: "corp-proxy-only" },
    profiles: { finance: { network_policy: "isolated" }, platform: {} },
    security: { safety_net: { action: "warn", block_clean: false } },
  })
  expect(merge({ org: o }).effective.network_policy).toBe("corp-proxy-only")
  expect(merge({ org: o, team: "finance" }).effective.network_policy).toBe("isolated")
  expect(merge({ org: o, team: "platform" }).effective.network_policy).toBe("corp-proxy-only")
  expect(merge({ org: o }).effective.safety_net).toEqual({ action: "warn", block_force_push: true, block_reset_hard: true, block_branch_force_delete: true, block_clean: false })
})

test("images: highest layer wins, blocked ones fall back, project needs delegation, --image is source cli", () => {
  const o = baseOrg({
    delegation: delegated,
    security: { blocked_base_images: ["docker.io/library/ubuntu"] },
    defaults: { sandbox: { image: "localhost/scc:base" } },
    profiles: { finance: { sandbox: { image: "UBUNTU:22.04" } }, platform: { delegation: { allow_project_overrides: true } } },
  })
  const finance = merge({ org: o, team: "finance" })
  expect(finance.effective.image).toBe("localhost/scc:base")
  expect(finance.blocked).toEqual([{ item: "UBUNTU:22.04", target_type: "image", blocked_by: "docker.io/library/ubuntu", source: "org.security", requested_by: "team.finance" }])
  const cli = merge({ org: o, team: "finance", image: "docker.io/library/ubuntu" })
  expect(cli.blocked.map((b) => [b.item, b.requested_by])).toEqual([
    ["docker.io/library/ubuntu:latest", "cli"],
    ["UBUNTU:22.04", "team.finance"],
  ])
  expect(merge({ org: o, image: "alpine" }).decisions.find((d) => d.field === "image")).toMatchObject({ value: "alpine:latest", source: "cli" })
  const p = project({ sandbox: { image: "node:22" } })
  expect(merge({ org: o, team: "platform", project: p }).effective.image).toBe("node:22")
  const denied = merge({ org: o, team: "finance", project: p })
  expect(denied.denied).toContainEqual({ item: "node:22", target_type: "image", requested_by: "project", reason: "Team 'finance' disabled project overrides (allow_project_overrides: false)" })
  expect(merge({ org: org() }).effective.image).toBeNull()
})

test("an unknown team is a not-found error naming the teams", () => {
  expect(() => merge({ org: baseOrg(), team: "nope" })).toThrow(NotFoundError)
  expect(() => merge({ org: baseOrg(), team: "nope" })).toThrow("Team 'nope' is not in the org config (teams: finance, platform)")
})
