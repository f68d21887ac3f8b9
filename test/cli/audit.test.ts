import { expect, test } from "bun:test"
import { join } from "node:path"
import { cli } from "../support/cli"
import { tmpdir } from "../support/tmpdir"
import { pluginHome, write } from "../audit/fixtures"

test("audit plugins --json: schemaVersion 1, summary, one entry per plugin install; exit 1 on malformed or unreadable", async () => {
  await using tmp = await tmpdir()
  const f = pluginHome(tmp.path)
  const r = await cli(["audit", "plugins", "--json"], { env: { HOME: tmp.path } })
  expect(r.code).toBe(1)
  const env = r.json()
  expect(env.kind).toBe("PluginAudit")
  const d = env.data
  expect(d.schemaVersion).toBe(1)
  expect(d.registry).toEqual({ path: f.registry, status: "parsed", format: "v2" })
  expect(d.summary).toMatchObject({ plugins: 7, errors: 2, manifests: { malformed: 2, unreadable: 1 } })
  expect(Object.keys(d.plugins[0]).sort()).toEqual(
    ["hooks", "id", "installPath", "manifests", "marketplace", "mcp_servers", "name", "scope", "status", "version", "warnings"].sort(),
  )
  const broken = d.plugins.find((p: any) => p.id === "broken@acme")
  expect(broken.manifests.plugin).toMatchObject({ status: "malformed", line: 3, column: 1 })

  const text = await cli(["audit", "plugins"], { env: { HOME: tmp.path } })
  expect(text.code).toBe(1)
  expect(text.stdout).toContain(`malformed: ${join(f.root("broken@acme"), ".claude-plugin", "plugin.json")}:3:1: expected a property name`)
  expect(text.stdout).toContain(`unreadable: ${join(f.root("locked@acme"), "hooks", "hooks.json")}`)
  expect(text.stdout).toMatch(/good@acme\s+user\s+1\.0\.0\s+parsed\s+parsed\s+parsed\s+docs\(http\), local\(stdio\)\s+2/)
})

test("audit plugins exits 0 when every manifest parses or is absent, and reads --registry", async () => {
  await using tmp = await tmpdir()
  const root = join(tmp.path, "p")
  write(join(root, ".claude-plugin", "plugin.json"), '{"name":"ok"}')
  const registry = join(tmp.path, "reg.json")
  write(registry, JSON.stringify({ version: 2, plugins: { "ok@m": [{ scope: "user", installPath: root, version: "1" }] } }))
  const r = await cli(["audit", "plugins", "--registry", registry, "--json"])
  expect(r.code).toBe(0)
  expect(r.json().data.summary).toMatchObject({ plugins: 1, ok: 1, errors: 0 })
  const none = await cli(["audit", "plugins"], { env: { HOME: join(tmp.path, "empty-home") } })
  expect(none.code).toBe(0)
  expect(none.stdout).toContain("no plugins installed")
})
