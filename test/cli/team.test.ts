import { expect, test } from "bun:test"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cli } from "../support/cli"
import { homeEnv, sampleOrgConfig } from "../support/org-fixtures"
import { startOrgServer } from "../support/org-server"
import { tmpdir } from "../support/tmpdir"

async function setUp(home: string, url: string, team = "finance") {
  const r = await cli(["setup", "--org", url, "--team", team, "--non-interactive"], { env: homeEnv(home) })
  expect(r.code).toBe(0)
}

test("team list marks the current team; JSON lists every profile with its description", async () => {
  await using home = await tmpdir()
  await using server = startOrgServer(sampleOrgConfig())
  await setUp(home.path, server.url)
  const env = homeEnv(home.path)
  const r = await cli(["team", "list", "--json"], { env })
  expect(r.code).toBe(0)
  expect(r.json().data).toEqual({
    organization: "Acme",
    current: "finance",
    teams: [
      { name: "finance", description: "Finance", current: true, plugins: 1, mcp_servers: 0 },
      { name: "platform", description: "Platform engineering", current: false, plugins: 1, mcp_servers: 1 },
    ],
  })
  const text = await cli(["team", "list"], { env })
  expect(text.stdout).toMatch(/^\*\s+finance\s+1\s+0\s+Finance$/m)
  expect(server.requests).toHaveLength(1) // setup fetched; list used the fresh cache
})

test("team switch validates against the org config and keeps the rest of the user config", async () => {
  await using home = await tmpdir()
  await using server = startOrgServer(sampleOrgConfig())
  await setUp(home.path, server.url)
  const env = homeEnv(home.path)
  const bad = await cli(["team", "switch", "marketing"], { env })
  expect(bad.code).toBe(1)
  expect(bad.stderr).toContain("available teams: finance, platform")

  const r = await cli(["team", "switch", "platform", "--json"], { env })
  expect(r.code).toBe(0)
  expect(r.json().data).toEqual({ team: "platform", previous: "finance" })
  const saved = JSON.parse(readFileSync(join(home.path, ".config/scc/config.json"), "utf8"))
  expect(saved).toMatchObject({ team: "platform", organization_source: { url: server.url } })
})

test("team info shows a team's additions and delegation; defaults to the current team", async () => {
  await using home = await tmpdir()
  await using server = startOrgServer(sampleOrgConfig())
  await setUp(home.path, server.url)
  const env = homeEnv(home.path)
  const platform = (await cli(["team", "info", "platform", "--json"], { env })).json().data
  expect(platform).toMatchObject({
    name: "platform",
    current: false,
    additional_plugins: ["deploy@acme"],
    additional_mcp_servers: [{ name: "jira", type: "http", url: "https://jira.acme.test/mcp" }],
    delegation: { add_plugins: "platform", add_mcp_servers: "platform", allow_project_overrides: true, projects_may_add: true },
  })
  const mine = (await cli(["team", "info", "--json"], { env })).json().data
  expect(mine).toMatchObject({ name: "finance", current: true, delegation: { add_plugins: null, projects_may_add: false } })
  const text = await cli(["team", "info", "platform"], { env })
  expect(text.stdout).toContain("may add plugins:     yes (delegation.teams pattern 'platform')")
  expect((await cli(["team", "info", "nope"], { env })).code).toBe(1)
})

test("team commands: no team chosen is a usage error; offline without a cache is exit 3", async () => {
  await using home = await tmpdir()
  writeFileSync(join(home.path, "org.json"), JSON.stringify({ ...sampleOrgConfig(), profiles: {} }))
  const env = homeEnv(home.path)
  expect((await cli(["setup", "--org", join(home.path, "org.json"), "--non-interactive"], { env })).code).toBe(0)
  const info = await cli(["team", "info"], { env })
  expect(info.code).toBe(2)
  expect(info.stderr).toContain("scc team info <team>")
  expect((await cli(["team", "list"], { env })).stdout).toContain("Acme defines no teams")

  await using other = await tmpdir()
  const offline = await cli(["team", "list", "--offline"], { env: { ...homeEnv(other.path), SCC_ORG_SOURCE: "https://org.example.test/org.json" } })
  expect(offline.code).toBe(3)
  expect(offline.stderr).toContain("Try: run once without --offline")
  const none = await cli(["team", "list", "--json"], { env: homeEnv(other.path) })
  expect(none.code).toBe(5)
  expect(none.json().status.errors[0].hint).toContain("scc setup --org")
})
