import { expect, test } from "bun:test"
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cli } from "../support/cli"
import { homeEnv, sampleOrgConfig } from "../support/org-fixtures"
import { startOrgServer } from "../support/org-server"
import { tmpdir } from "../support/tmpdir"

const configFile = (home: string) => join(home, ".config", "scc", "config.json")

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name))
}

test("setup --non-interactive fetches, validates, and writes the user config (0600) without the token anywhere", async () => {
  await using home = await tmpdir()
  await using server = startOrgServer(sampleOrgConfig())
  const token = "setup-secret-token-77aa"
  server.requireAuth(`Bearer ${token}`)
  const r = await cli(["setup", "--org", server.url, "--team", "platform", "--auth", "env:ORG_TOKEN", "--non-interactive", "--verbose"], {
    env: { ...homeEnv(home.path), ORG_TOKEN: token },
  })
  expect(r.stderr).not.toContain(token)
  expect(r.code).toBe(0)
  expect(r.stdout).toContain("organization: Acme")
  expect(server.requests).toHaveLength(1)
  expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${token}`)

  const path = configFile(home.path)
  expect(statSync(path).mode & 0o777).toBe(0o600)
  expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ organization_source: { url: server.url, auth: "env:ORG_TOKEN" }, team: "platform" })
  expect(r.stdout).not.toContain(token)
  const files = allFiles(home.path)
  expect(files.some((f) => f.endsWith("cli.log"))).toBe(true)
  for (const f of files) expect(readFileSync(f, "utf8"), f).not.toContain(token)
})

test("setup refuses a team the org config does not define, naming the teams, and writes nothing", async () => {
  await using home = await tmpdir()
  await using server = startOrgServer(sampleOrgConfig())
  const r = await cli(["setup", "--org", server.url, "--team", "marketing", "--non-interactive"], { env: homeEnv(home.path) })
  expect(r.code).toBe(1)
  expect(r.stderr).toContain("team 'marketing' does not exist; available teams: finance, platform")
  expect(existsSync(configFile(home.path))).toBe(false)

  const none = await cli(["setup", "--org", server.url, "--non-interactive"], { env: homeEnv(home.path) })
  expect(none.code).toBe(2)
  expect(none.stderr).toContain("available teams: finance, platform")
  expect(existsSync(configFile(home.path))).toBe(false)
})

test("setup writes nothing for an invalid org config or an unreachable source", async () => {
  await using home = await tmpdir()
  await using server = startOrgServer({ ...sampleOrgConfig(), schema_version: "2.0" })
  const bad = await cli(["setup", "--org", server.url, "--team", "platform", "--non-interactive"], { env: homeEnv(home.path) })
  expect(bad.code).toBe(3)
  expect(bad.stderr).toContain("schema_version")
  expect(existsSync(configFile(home.path))).toBe(false)

  const http = await cli(["setup", "--org", "http://org.example.test/org.json", "--team", "x", "--non-interactive"], { env: homeEnv(home.path) })
  expect(http.code).toBe(3)
  expect(http.stderr).toContain("plain http")

  const missing = await cli(["setup", "--team", "x", "--non-interactive"], { env: homeEnv(home.path) })
  expect(missing.code).toBe(2)
  expect(missing.stderr).toContain("--org is required")
  expect(existsSync(configFile(home.path))).toBe(false)
})

test("setup keeps existing preferences and stores a file source as an absolute path", async () => {
  await using home = await tmpdir()
  writeFileSync(join(home.path, "org.json"), JSON.stringify(sampleOrgConfig()))
  const env = homeEnv(home.path)
  expect((await cli(["config", "set", "preferences.protected_branches", "main,release"], { env })).code).toBe(0)
  const r = await cli(["setup", "--org", "./org.json", "--team", "finance", "--non-interactive", "--json"], { env, cwd: home.path })
  expect(r.code).toBe(0)
  expect(r.json().data.team).toBe("finance")
  expect(JSON.parse(readFileSync(configFile(home.path), "utf8"))).toMatchObject({
    organization_source: { url: join(home.path, "org.json") },
    team: "finance",
    preferences: { protected_branches: ["main", "release"] },
  })
})

test("interactive setup reads the source, the auth spec and the team (by number) from prompts", async () => {
  await using home = await tmpdir()
  await using server = startOrgServer(sampleOrgConfig())
  const r = await cli(["setup"], { env: homeEnv(home.path), stdin: `${server.url}\n\nnope\n2\n` })
  expect(r.code).toBe(0)
  expect(r.stderr).toContain("Organization config source")
  expect(r.stderr).toContain(" 2. platform  Platform engineering")
  expect(r.stderr).toContain("'nope' is not one of the teams")
  expect(JSON.parse(readFileSync(configFile(home.path), "utf8"))).toEqual({
    schema_version: 1,
    preferences: {},
    organization_source: { url: server.url },
    team: "platform",
  })

  // Run again: each prompt offers the saved value, and Enter keeps it.
  const again = await cli(["setup"], { env: homeEnv(home.path), stdin: "\n\n\n" })
  expect(again.code).toBe(0)
  expect(again.stderr).toContain(`Organization config source (${"https URL"}`)
  expect(again.stderr).toContain(`[${server.url}]: `)
  expect(again.stderr).toContain("Your team (number or name) [platform]: ")
  expect(JSON.parse(readFileSync(configFile(home.path), "utf8"))).toMatchObject({ organization_source: { url: server.url }, team: "platform" })
  // A saved auth spec is offered too; "none" removes it.
  await cli(["setup", "--org", server.url, "--auth", "env:SCC_TEST_TOKEN_UNUSED", "--team", "platform", "--non-interactive"], { env: { ...homeEnv(home.path), SCC_TEST_TOKEN_UNUSED: "t0k3n-value" } })
  const kept = await cli(["setup"], { env: { ...homeEnv(home.path), SCC_TEST_TOKEN_UNUSED: "t0k3n-value" }, stdin: "\n\n\n" })
  expect(kept.stderr).toContain("[env:SCC_TEST_TOKEN_UNUSED]: ")
  expect(JSON.parse(readFileSync(configFile(home.path), "utf8")).organization_source).toEqual({ url: server.url, auth: "env:SCC_TEST_TOKEN_UNUSED" })
  const cleared = await cli(["setup"], { env: { ...homeEnv(home.path), SCC_TEST_TOKEN_UNUSED: "t0k3n-value" }, stdin: "\nnone\n\n" })
  expect(cleared.code).toBe(0)
  expect(JSON.parse(readFileSync(configFile(home.path), "utf8")).organization_source).toEqual({ url: server.url })

  const eof = await cli(["setup"], { env: homeEnv(home.path), stdin: "" })
  expect(eof.code).toBe(2)
  expect(eof.stderr).toContain("--non-interactive")
})
