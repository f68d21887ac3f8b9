import { expect, test } from "bun:test"
import { readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cli } from "../support/cli"
import { homeEnv, sampleOrgConfig } from "../support/org-fixtures"
import { tmpdir } from "../support/tmpdir"

test("config validate: exit 0 on a valid file, exit 3 with every error's JSON path, warnings listed", async () => {
  await using dir = await tmpdir()
  const good = join(dir.path, "good.json")
  writeFileSync(good, JSON.stringify({ ...sampleOrgConfig(), future_key: 1 }))
  const ok = await cli(["config", "validate", good])
  expect(ok.code).toBe(0)
  expect(ok.stdout).toContain("warning: unknown key future_key")
  expect(ok.stdout).toContain("valid (1 warning)")

  const config = sampleOrgConfig()
  config.defaults.enabled_plugins = ["evil-miner@acme"]
  config.profiles.finance.additional_mcp_servers = [{ name: "x", type: "sse" }]
  const bad = join(dir.path, "bad.json")
  writeFileSync(bad, JSON.stringify(config))
  const r = await cli(["config", "validate", bad])
  expect(r.code).toBe(3)
  expect(r.stdout).toContain("error: profiles.finance.additional_mcp_servers[0].url: an sse or http MCP server needs a url")
  // A blocked default plugin is a retroactive block: a warning, not an error.
  expect(r.stdout).toContain("warning: defaults.enabled_plugins[0]: 'evil-miner@acme' is blocked by security.blocked_plugins pattern 'evil-*@*' (a retroactive block")
  expect(r.stdout).toContain("1 error")

  // cross-checks run once the schema passes
  config.profiles.finance.additional_mcp_servers = []
  writeFileSync(bad, JSON.stringify(config))
  config.defaults.enabled_plugins = ["evil-miner@acme", "twice@@acme"]
  writeFileSync(bad, JSON.stringify(config))
  const cross = await cli(["config", "validate", bad, "--json"])
  expect(cross.code).toBe(3)
  const env = cross.json()
  expect(env.kind).toBe("OrgConfigValidation")
  expect(env.status.ok).toBe(false)
  expect(env.data.valid).toBe(false)
  expect(env.data.errors).toEqual([{ path: "defaults.enabled_plugins[1]", message: "Plugin 'twice@@acme' has '@@'; write it as name@marketplace" }])
  expect(env.status.errors[0].details.path).toBe("defaults.enabled_plugins[1]")
  expect(env.status.warnings.join("\n")).toContain("retroactive block")

  writeFileSync(bad, "{ nope")
  const syntax = await cli(["config", "validate", bad])
  expect(syntax.code).toBe(3)
  expect(syntax.stdout).toContain("not valid JSON")

  const missing = await cli(["config", "validate", join(dir.path, "absent.json")])
  expect(missing.code).toBe(1)
})

test("config set and get: dotted keys, typed values, validation, atomic 0600 writes", async () => {
  await using home = await tmpdir()
  const env = homeEnv(home.path)
  const unset = await cli(["config", "get", "team"], { env })
  expect(unset.code).toBe(1)
  expect(unset.stderr).toContain("team is not set")

  expect((await cli(["config", "set", "preferences.protected_branches", '["main","prod"]'], { env })).code).toBe(0)
  const got = await cli(["config", "get", "preferences.protected_branches", "--json"], { env })
  expect(got.json().data).toEqual({ key: "preferences.protected_branches", value: ["main", "prod"] })
  expect(statSync(join(home.path, ".config/scc/config.json")).mode & 0o777).toBe(0o600)

  const unknown = await cli(["config", "set", "preferences.colour", "blue"], { env })
  expect(unknown.code).toBe(2)
  expect(unknown.stderr).toContain("one of: organization_source.url, organization_source.auth, team, preferences.protected_branches")

  // auth without a source is incomplete: the schema says so, nothing is written
  const before = readFileSync(join(home.path, ".config/scc/config.json"), "utf8")
  const auth = await cli(["config", "set", "organization_source.auth", "env:TOKEN"], { env })
  expect(auth.code).toBe(3)
  expect(auth.stderr).toContain("organization_source.url is required")
  expect(readFileSync(join(home.path, ".config/scc/config.json"), "utf8")).toBe(before)

  expect((await cli(["config", "set", "organization_source.url", "github:acme/policy:org.json"], { env })).code).toBe(0)
  const badAuth = await cli(["config", "set", "organization_source.auth", "ghp_literal_token"], { env })
  expect(badAuth.code).toBe(3)
  expect(badAuth.stderr).toContain("invalid auth spec")
  expect((await cli(["config", "set", "organization_source.auth", "command:gh auth token"], { env })).code).toBe(0)
  expect((await cli(["config", "get", "organization_source.auth"], { env })).stdout.trim()).toBe("command:gh auth token")
})

test("config set team checks the team against the org config, like team switch", async () => {
  await using home = await tmpdir()
  writeFileSync(join(home.path, "org.json"), JSON.stringify(sampleOrgConfig()))
  const env = homeEnv(home.path)
  expect((await cli(["config", "set", "organization_source.url", join(home.path, "org.json")], { env })).code).toBe(0)
  const bad = await cli(["config", "set", "team", "marketing"], { env })
  expect(bad.code).toBe(1)
  expect(bad.stderr).toContain("available teams: finance, platform")
  expect((await cli(["config", "set", "team", "finance"], { env })).code).toBe(0)
  expect((await cli(["config", "get", "team"], { env })).stdout.trim()).toBe("finance")
})

test("config show reports the source, where it comes from, and the cache state", async () => {
  await using home = await tmpdir()
  writeFileSync(join(home.path, "org.json"), JSON.stringify(sampleOrgConfig()))
  const env = homeEnv(home.path)
  const empty = await cli(["config", "show", "--json"], { env })
  expect(empty.code).toBe(0)
  expect(empty.json().data.organization.source).toBeNull()
  expect(empty.json().data.cache.exists).toBe(false)

  expect((await cli(["setup", "--org", join(home.path, "org.json"), "--team", "platform", "--non-interactive"], { env })).code).toBe(0)
  const d = (await cli(["config", "show", "--json"], { env })).json().data
  expect(d.organization).toMatchObject({ name: "Acme", source: join(home.path, "org.json"), source_from: "user config" })
  expect(d.team).toEqual({ name: "platform", from: "user config" })
  expect(d.cache).toMatchObject({ exists: true, intact: true, matches_source: true, expired: false })

  const overridden = (await cli(["config", "show", "--json"], { env: { ...env, SCC_TEAM: "finance" } })).json().data
  expect(overridden.team).toEqual({ name: "finance", from: "env" })
  const text = await cli(["config", "show"], { env })
  expect(text.stdout).toContain("team:               platform (user config)")
})

test("config paths lists every file with its existence", async () => {
  await using home = await tmpdir({ git: true })
  const env = homeEnv(home.path)
  writeFileSync(join(home.path, ".scc.yaml"), "additional_plugins: []\n")
  const r = await cli(["config", "paths", "--json"], { env, cwd: home.path })
  expect(r.code).toBe(0)
  const byName = Object.fromEntries(r.json().data.paths.map((p: any) => [p.name, p]))
  expect(byName["user config"]).toMatchObject({ path: join(home.path, ".config/scc/config.json"), exists: false })
  expect(byName["project config"]).toMatchObject({ path: join(home.path, ".scc.yaml"), exists: true })
  expect(byName["org config cache"].path).toBe(join(home.path, ".cache/scc/org_config.json"))
  for (const name of ["user exceptions", "org config cache meta", "repo exceptions", "usage stats", "cli log"]) expect(byName[name]).toBeDefined()
})
