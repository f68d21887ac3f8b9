import { expect, test } from "bun:test"
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as v from "valibot"
import { enforcePolicy } from "../../src/audit/enforce"
import { auditPlugins } from "../../src/audit/plugins"
import { OrgConfig, type OrgConfigInput } from "../../src/org/schema"
import { tmpdir } from "../support/tmpdir"
import { write } from "./fixtures"

// Installed plugins checked against an org policy, through the governance merge.

function install(home: string, plugins: Record<string, { mcp?: Record<string, unknown> }>): string {
  const reg: Record<string, unknown[]> = {}
  for (const [id, p] of Object.entries(plugins)) {
    const root = join(home, "plugins", id.replace("@", "-"))
    write(join(root, ".claude-plugin", "plugin.json"), JSON.stringify({ name: id.split("@")[0] }))
    if (p.mcp) write(join(root, ".mcp.json"), JSON.stringify({ mcpServers: p.mcp }))
    reg[id] = [{ scope: "user", installPath: root, version: "1.0.0" }]
  }
  const registry = join(home, "installed_plugins.json")
  write(registry, JSON.stringify({ version: 2, plugins: reg }))
  return registry
}

const org = (input: Partial<OrgConfigInput>) => v.parse(OrgConfig, { schema_version: "1", organization: { name: "Acme", id: "acme" }, ...input })

test("blocked plugins, blocked servers (by name or URL host) and the stdio gate are violations", async () => {
  await using tmp = await tmpdir()
  mkdirSync(join(tmp.path, "opt", "mcp"), { recursive: true })
  writeFileSync(join(tmp.path, "opt", "mcp", "ok-server"), "")
  const registry = install(tmp.path, {
    "evil-tool@acme": {},
    "Docs@acme": { mcp: { docs: { type: "http", url: "https://docs.example.com/mcp" }, leak: { type: "sse", url: "https://paste.bad.example/sse" } } },
    "local@acme": { mcp: { inside: { command: "${CLAUDE_PLUGIN_ROOT}/../../opt/mcp/ok-server" }, outside: { command: "/usr/bin/env" }, relative: { command: "npx" } } },
    "nourl@acme": { mcp: { weird: { type: "ws" } } },
  })
  const report = await auditPlugins(registry)
  const policy = org({
    security: {
      blocked_plugins: ["EVIL-*"],
      blocked_mcp_servers: ["*.bad.example"],
      allow_stdio_mcp: true,
      allowed_stdio_prefixes: [join(tmp.path, "opt", "mcp")],
    },
  })
  const e = enforcePolicy(report.plugins, { org: policy, team: null, now: new Date() })
  const got = e.violations.map((x) => `${x.plugin} ${x.target_type} ${x.item}: ${x.blocked_by}`).sort()
  expect(got).toEqual([
    "evil-tool@acme plugin evil-tool@acme: EVIL-*",
    "local@acme mcp_server outside: stdio command '/usr/bin/env' is outside security.allowed_stdio_prefixes ('" + join(tmp.path, "opt", "mcp") + "')",
    "local@acme mcp_server relative: stdio command 'npx' is not an absolute path",
    "nourl@acme mcp_server weird: url '' is not a valid URL, so its host cannot be checked",
    "Docs@acme mcp_server leak: *.bad.example",
  ].sort())
})

test("a policy exception for the team lets an installed plugin through and is reported", async () => {
  await using tmp = await tmpdir()
  const registry = install(tmp.path, { "evil-tool@acme": {} })
  const report = await auditPlugins(registry)
  const policy = org({
    security: { blocked_plugins: ["evil-*"] },
    profiles: { backend: {}, frontend: {} },
    exceptions: [{ id: "ex-1", reason: "pilot", allow: { plugins: ["evil-tool@acme"] }, teams: ["backend"] }],
  })
  const backend = enforcePolicy(report.plugins, { org: policy, team: "backend", now: new Date() })
  expect(backend.violations).toEqual([])
  expect(backend.exceptions.map((x) => [x.id, x.lifted.map((l) => l.item)])).toEqual([["ex-1", ["evil-tool@acme"]]])
  const frontend = enforcePolicy(report.plugins, { org: policy, team: "frontend", now: new Date() })
  expect(frontend.violations.map((x) => x.item)).toEqual(["evil-tool@acme"])
})

test("stdio gate: disabled stdio servers are violations; a symlink escaping the prefix is caught", async () => {
  await using tmp = await tmpdir()
  const allowed = join(tmp.path, "allowed")
  mkdirSync(allowed)
  symlinkSync("/usr/bin/env", join(allowed, "sneaky"))
  const registry = install(tmp.path, { "s@acme": { mcp: { sneaky: { command: join(allowed, "sneaky") } } } })
  const report = await auditPlugins(registry)
  const off = enforcePolicy(report.plugins, { org: org({}), team: null, now: new Date() })
  expect(off.violations.map((x) => x.blocked_by)).toEqual(["stdio MCP servers are disabled (security.allow_stdio_mcp: false)"])
  const prefixed = enforcePolicy(report.plugins, { org: org({ security: { allow_stdio_mcp: true, allowed_stdio_prefixes: [allowed] } }), team: null, now: new Date() })
  expect(prefixed.violations[0]!.blocked_by).toContain("real path")
})
