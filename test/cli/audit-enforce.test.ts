import { expect, test } from "bun:test"
import { join } from "node:path"
import { cli } from "../support/cli"
import { tmpdir } from "../support/tmpdir"
import { write } from "../audit/fixtures"

// `audit plugins --enforce` must say what `config explain` says: the same
// installed plugins and servers, enabled through the org's defaults, are
// blocked by explain exactly where enforce reports a violation.

type Server = { name: string; type: string; url?: string; command?: string }

function setup(root: string) {
  const home = join(root, "home")
  const plugins: Record<string, Server[]> = {
    "evil-tool@acme": [],
    "docs@acme": [
      { name: "docs", type: "http", url: "https://docs.example.com/mcp" },
      { name: "leak", type: "sse", url: "https://paste.bad.example/sse" },
    ],
    "runner@acme": [{ name: "runner", type: "stdio", command: "/usr/bin/env" }],
  }
  const reg: Record<string, unknown[]> = {}
  for (const [id, servers] of Object.entries(plugins)) {
    const dir = join(home, ".claude", "plugins", "cache", "acme", id.split("@")[0]!, "1.0.0")
    write(join(dir, ".claude-plugin", "plugin.json"), JSON.stringify({ name: id.split("@")[0] }))
    const mcp = Object.fromEntries(servers.map(({ name, ...s }) => [name, s]))
    if (servers.length) write(join(dir, ".mcp.json"), JSON.stringify({ mcpServers: mcp }))
    reg[id] = [{ scope: "user", installPath: dir, version: "1.0.0" }]
  }
  write(join(home, ".claude", "plugins", "installed_plugins.json"), JSON.stringify({ version: 2, plugins: reg }))
  const policy = {
    schema_version: "1.0.0",
    organization: { name: "Acme", id: "acme" },
    marketplaces: { acme: { source: "github", repo: "acme/plugins" } },
    security: { blocked_plugins: ["evil-*"], blocked_mcp_servers: ["*.bad.example"], allow_stdio_mcp: true, allowed_stdio_prefixes: ["/opt/mcp"] },
    profiles: { platform: {} },
  }
  const orgFile = join(root, "org.json")
  write(orgFile, JSON.stringify(policy))
  // The same policy with the team asking for every installed plugin and server (the org's own
  // defaults may not enable a blocked plugin: validation refuses that): what explain would launch.
  const explainFile = join(root, "org-explain.json")
  write(
    explainFile,
    JSON.stringify({
      ...policy,
      delegation: { teams: { allow_additional_plugins: ["platform"], allow_additional_mcp_servers: ["platform"] } },
      profiles: { platform: { additional_plugins: Object.keys(plugins), additional_mcp_servers: Object.values(plugins).flat() } },
    }),
  )
  const env = (source: string) => ({ HOME: home, XDG_CACHE_HOME: join(root, "cache"), XDG_CONFIG_HOME: join(root, "config"), SCC_ORG_SOURCE: source, SCC_TEAM: "platform" })
  return { home, orgFile, explainFile, env }
}

test("audit plugins --enforce exits 6 on violations, and they are exactly config explain's blocked items", async () => {
  await using tmp = await tmpdir()
  const s = setup(tmp.path)
  const audit = await cli(["audit", "plugins", "--enforce", "--json"], { env: s.env(s.orgFile), cwd: tmp.path })
  expect(audit.code).toBe(6)
  const e = audit.json().data.enforcement
  expect(e.team).toBe("platform")
  const violations = e.violations.map((v: any) => `${v.target_type} ${v.item}: ${v.blocked_by}`).sort()
  expect(violations).toEqual([
    "mcp_server leak: *.bad.example",
    "mcp_server runner: stdio command '/usr/bin/env' is outside security.allowed_stdio_prefixes ('/opt/mcp')",
    "plugin evil-tool@acme: evil-*",
  ])

  const explain = await cli(["config", "explain", "--json"], { env: s.env(s.explainFile), cwd: tmp.path })
  expect(explain.stderr).toBe("")
  expect(explain.code).toBe(0)
  const blocked = explain.json().data.blocked.map((b: any) => `${b.target_type} ${b.item}: ${b.blocked_by}`).sort()
  expect(blocked).toEqual(violations)

  const text = await cli(["audit", "plugins", "--enforce"], { env: s.env(s.orgFile), cwd: tmp.path })
  expect(text.code).toBe(6)
  expect(text.stdout).toContain("policy (team platform): 3 violation(s)")
  expect(text.stdout).toContain("blocked plugin evil-tool@acme (in evil-tool@acme): evil-*")
})

test("audit plugins --enforce exits 0 when the policy allows everything installed; 1 for a malformed manifest", async () => {
  await using tmp = await tmpdir()
  const s = setup(tmp.path)
  write(s.orgFile, JSON.stringify({ schema_version: "1", organization: { name: "Acme" }, security: { allow_stdio_mcp: true }, profiles: { platform: {} } }))
  const ok = await cli(["audit", "plugins", "--enforce", "--json"], { env: s.env(s.orgFile), cwd: tmp.path })
  expect(ok.code).toBe(0)
  expect(ok.json().data.enforcement.violations).toEqual([])

  write(join(s.home, ".claude", "plugins", "cache", "acme", "docs", "1.0.0", "hooks", "hooks.json"), "{ nope")
  const bad = await cli(["audit", "plugins", "--enforce", "--json"], { env: s.env(s.orgFile), cwd: tmp.path })
  expect(bad.code).toBe(1)

  // Without an org config source, --enforce cannot run: a named error, not a silent pass.
  const none = await cli(["audit", "plugins", "--enforce"], { env: { ...s.env(s.orgFile), SCC_ORG_SOURCE: undefined }, cwd: tmp.path })
  expect(none.code).toBe(5)
  expect(none.stderr).toContain("Try: scc setup")
})
