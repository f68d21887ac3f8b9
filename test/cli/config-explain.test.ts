import { expect, test } from "bun:test"
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { govWorld } from "../support/gov"
import { cli } from "../support/cli"
import { homeEnv, sampleOrgConfig } from "../support/org-fixtures"
import { startOrgServer } from "../support/org-server"
import { tmpdir } from "../support/tmpdir"

// sampleOrgConfig: blocks evil-*@* plugins and *.untrusted.test servers; team
// platform may add plugins and servers and allows project overrides; team
// finance may add nothing.
function org() {
  const c = sampleOrgConfig()
  c.profiles.finance.additional_mcp_servers = [{ name: "evil-notes", type: "sse", url: "https://notes.untrusted.test/sse" }]
  c.profiles.platform.additional_plugins.push("evil-tool@acme")
  return c
}

const later = () => new Date(Date.now() + 3_600_000).toISOString()

test("explain --json prints one envelope with the effective config, sources, blocks and exact denial reasons", async () => {
  await using w = await govWorld(org(), { team: "finance" })
  const r = await w.run(["config", "explain", "--json"])
  expect(r.code).toBe(0)
  const env = r.json()
  expect(env.kind).toBe("ConfigExplain")
  expect(env.status.ok).toBe(true)
  const d = env.data
  expect(d.team).toBe("finance")
  expect(d.effective.plugins).toEqual(["lint@acme"])
  expect(d.effective.session.timeout_hours).toBe(8)
  expect(d.effective.marketplaces).toEqual({ acme: { source: "github", repo: "acme/claude-plugins" } })
  expect(d.blocked).toEqual([{ item: "evil-notes", target_type: "mcp_server", blocked_by: "*.untrusted.test", source: "org.security", requested_by: "team.finance" }])
  expect(d.denied).toEqual([{ item: "ledger@acme", target_type: "plugin", requested_by: "team", reason: "Team 'finance' not allowed to add plugins" }])
  expect(d.decisions).toContainEqual({ field: "plugins", value: "lint@acme", source: "org.defaults", reason: "enabled by org defaults" })
  expect(d.org).toMatchObject({ name: "Acme", origin: "file", stale: false })
  expect(d.workspace).toEqual({ root: w.repo, project_config: null })
  expect(r.stderr).toBe("")
})

test("human output shows each value with its source, then blocked, denied and exceptions with why", async () => {
  await using w = await govWorld(org(), { team: "platform" })
  const r = await w.run(["config", "explain"])
  expect(r.code).toBe(0)
  const lines = r.stdout.split("\n")
  expect(lines[0]).toBe("Team:      platform")
  expect(lines.find((l) => l.includes("deploy@acme"))).toMatch(/plugins\s+deploy@acme\s+team\.platform\s+added by team 'platform'/)
  expect(lines.find((l) => l.includes("mcp_servers.jira"))).toMatch(/https:\/\/jira\.acme\.test\/mcp\s+team\.platform/)
  expect(r.stdout).toContain("Blocked by security (1)")
  expect(lines.find((l) => l.includes("evil-tool@acme"))).toMatch(/evil-tool@acme\s+plugin\s+evil-\*@\*\s+team\.platform/)
  expect(r.stdout).toContain("Denied additions: none")
  expect(r.stdout).toContain("Active exceptions: none")
})

test("the project layer: .scc.yaml additions need delegation; --workspace picks another repository", async () => {
  await using w = await govWorld(org(), { team: "finance" })
  await using other = await tmpdir({ git: true })
  writeFileSync(join(other.path, ".scc.yaml"), "additional_plugins:\n  - repo-lint@acme\nsession:\n  timeout_hours: 2\n")
  mkdirSync(join(other.path, "sub"))
  const finance = (await w.run(["config", "explain", "--json", "--workspace", join(other.path, "sub")])).json()
  expect(finance.data.workspace).toEqual({ root: other.path, project_config: join(other.path, ".scc.yaml") })
  expect(finance.data.denied).toContainEqual({ item: "repo-lint@acme", target_type: "plugin", requested_by: "project", reason: "Team 'finance' disabled project overrides (allow_project_overrides: false)" })
  expect(finance.data.effective.session.timeout_hours).toBe(8)
  expect(finance.status.warnings.some((x: string) => x.includes("session.timeout_hours (2) is ignored"))).toBe(true)
  const platform = (await w.run(["config", "explain", "--json", "--team", "platform"], { cwd: other.path })).json()
  expect(platform.data.effective.plugins).toEqual(["lint@acme", "deploy@acme", "repo-lint@acme"])
  expect(platform.data.effective.session.timeout_hours).toBe(2)
})

test("--field narrows to one field, in JSON and text; an unknown field is a usage error", async () => {
  await using w = await govWorld(org(), { team: "finance" })
  const plugins = (await w.run(["config", "explain", "--field", "plugins", "--json"])).json()
  expect(plugins.kind).toBe("ConfigExplainField")
  expect(plugins.data).toEqual({
    team: "finance",
    field: "plugins",
    value: ["lint@acme"],
    decisions: [{ field: "plugins", value: "lint@acme", source: "org.defaults", reason: "enabled by org defaults" }],
    blocked: [],
    denied: [{ item: "ledger@acme", target_type: "plugin", requested_by: "team", reason: "Team 'finance' not allowed to add plugins" }],
    exceptions: [],
  })
  const timeout = await w.run(["config", "explain", "--field", "session.timeout_hours"])
  expect(timeout.stdout.split("\n")[0]).toBe("session.timeout_hours: 8")
  const blocked = await w.run(["config", "explain", "--field", "blocked"])
  expect(blocked.stdout).toStartWith("Blocked by security (1)")
  const bad = await w.run(["config", "explain", "--field", "nope", "--json"])
  expect(bad.code).toBe(2)
  expect(bad.json().status.errors[0].message).toBe("unknown field 'nope'")
})

test("an unknown team exits 1 naming the teams", async () => {
  await using w = await govWorld(org(), { team: "ghosts" })
  const r = await w.run(["config", "explain"])
  expect(r.code).toBe(1)
  expect(r.stderr).toContain("Team 'ghosts' is not in the org config (teams: platform, finance)")
  expect(r.stderr).toContain("Try: scc team list")
})

test("local exceptions from the user and repo files lift denials, not blocks, and show as active", async () => {
  await using w = await govWorld(org(), { team: "finance" })
  const file = (id: string, allow: object) => JSON.stringify({ schema_version: 1, exceptions: [{ id, reason: "demo", created_at: new Date().toISOString(), expires_at: later(), allow }] })
  writeFileSync(w.userExceptions, file("u1", { plugins: ["ledger@acme"], mcp_servers: ["evil-notes"] }))
  mkdirSync(join(w.repo, ".scc"))
  writeFileSync(w.repoExceptions, file("r1", { base_images: ["*"] }))
  const d = (await w.run(["config", "explain", "--json"])).json().data
  expect(d.effective.plugins).toEqual(["lint@acme", "ledger@acme"])
  expect(d.blocked.map((b: { item: string }) => b.item)).toEqual(["evil-notes"])
  expect(d.exceptions).toEqual([{ id: "u1", scope: "user", reason: "demo", expires_at: expect.any(String), lifted: [{ item: "ledger@acme", target_type: "plugin", kind: "denied" }] }])
})

test("a corrupt exceptions file is moved aside with a warning and explain still answers", async () => {
  await using w = await govWorld(org(), { team: "finance" })
  writeFileSync(w.userExceptions, "{oops")
  const r = await w.run(["config", "explain", "--json"])
  expect(r.code).toBe(0)
  const env = r.json()
  expect(env.status.warnings[0]).toMatch(/exceptions\.json is not valid JSON; moved it to .*exceptions\.json\.bak-\d{8} and started empty/)
  expect(existsSync(w.userExceptions)).toBe(false)
  expect(readdirSync(join(w.home, ".config", "scc")).some((f) => /^exceptions\.json\.bak-\d{8}$/.test(f))).toBe(true)
})

test("over a loopback server: the first explain fetches, the next ones answer from the cache; --offline without a cache exits 3", async () => {
  await using server = startOrgServer(org())
  await using w = await govWorld(undefined, { team: "platform", source: server.url })
  const offline = await w.run(["config", "explain", "--offline"])
  expect(offline.code).toBe(3)
  expect(offline.stderr).toContain("no cached org config")
  expect(server.requests).toHaveLength(0)
  const first = (await w.run(["config", "explain", "--json"])).json()
  expect(first.data.org.origin).toBe("network")
  expect(first.data.effective.plugins).toEqual(["lint@acme", "deploy@acme"])
  expect(server.requests).toHaveLength(1)
  const second = (await w.run(["config", "explain", "--json"])).json()
  expect(second.data.org.origin).toBe("cache")
  expect(second.data.effective).toEqual(first.data.effective)
  expect(server.requests).toHaveLength(1)
})

test("with no org source configured, explain exits 5 and says how to set one up", async () => {
  await using home = await tmpdir()
  await using repo = await tmpdir({ git: true })
  const r = await cli(["config", "explain", "--json"], { cwd: repo.path, env: homeEnv(home.path) })
  expect(r.code).toBe(5)
  expect(r.json().status.errors[0]).toMatchObject({ code: "missing_prerequisite", hint: expect.stringContaining("scc setup") })
})
