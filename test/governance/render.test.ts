import { expect, test } from "bun:test"
import { UsageError } from "../../src/errors"
import type { Explained } from "../../src/governance/explain"
import { explainField, renderExplain, renderField } from "../../src/governance/render"
import { baseOrg, merge } from "./fixtures"

function explained(): Explained {
  const r = merge({
    org: baseOrg({
      security: { blocked_mcp_servers: ["books"], safety_net: { action: "warn", block_clean: false } },
      profiles: { finance: { additional_plugins: ["ledger@acme"], additional_mcp_servers: [{ name: "books", type: "http", url: "https://b.acme.dev" }, { name: "wiki", type: "http", url: "https://w.acme.dev" }] } },
      delegation: { teams: { allow_additional_mcp_servers: ["finance"] } },
    }),
    team: "finance",
  })
  return { ...r, org: { name: "Acme", source: "/etc/org.json", origin: "file", stale: false, fetched_at: null }, workspace: { root: "/w", project_config: null }, expired_local_exceptions: 0 }
}

test("--field narrows values, decisions, blocked, denied and exceptions to one field", () => {
  const x = explained()
  const plugins = explainField(x, "plugins")
  expect(plugins.value).toEqual(["lint@acme"])
  expect(plugins.decisions.map((d) => d.value)).toEqual(["lint@acme"])
  expect(plugins.denied.map((d) => d.item)).toEqual(["ledger@acme"])
  expect(plugins.blocked).toEqual([])
  const mcp = explainField(x, "mcp_servers")
  expect(mcp.blocked.map((b) => b.item)).toEqual(["books"])
  expect(mcp.decisions.map((d) => d.field)).toEqual(["mcp_servers.wiki"])
  const wiki = explainField(x, "mcp_servers.wiki")
  expect(wiki.value).toMatchObject({ name: "wiki", source: "team.finance" })
  expect(wiki.blocked).toEqual([])
  const books = explainField(x, "mcp_servers.books")
  expect(books.value).toBeNull()
  expect(books.blocked.map((b) => b.item)).toEqual(["books"])
  expect(explainField(x, "session.timeout_hours").value).toBeNull()
  expect(explainField(x, "marketplaces.acme").value).toEqual({ source: "github", repo: "acme/plugins" })
  expect(explainField(x, "blocked").value).toBe(x.blocked)
  expect(() => explainField(x, "nope")).toThrow(UsageError)
  expect(() => explainField(x, "session.nope")).toThrow("unknown field 'session.nope'")
})

test("the human view lists each value with its source and why, then blocked, denied and exceptions", () => {
  const text = renderExplain(explained())
  expect(text).toStartWith("Team:      finance\nOrg:       Acme (/etc/org.json, local file)\nWorkspace: /w (no .scc.yaml)")
  expect(text).toMatch(/safety_net\s+warn \(force_push, reset_hard, branch_force_delete\)\s+org\.security/)
  expect(text).toMatch(/marketplaces\.acme\s+github acme\/plugins\s+org\.defaults/)
  expect(text).toMatch(/Blocked by security \(1\)\n\s+ITEM\s+TYPE\s+BLOCKED BY\s+REQUESTED BY\n\s+books\s+mcp_server\s+books\s+team\.finance/)
  expect(text).toMatch(/Denied additions \(1\)\n.*\n\s+ledger@acme\s+plugin\s+team\s+Team 'finance' not allowed to add plugins/)
  expect(text).toContain("Active exceptions: none")
  // Each denied item gets the command that lifts it; no expired exceptions, no cleanup hint.
  expect(text).toEndWith('To allow a denied item for a while:\n  scc unblock ledger@acme --ttl 8h --reason "..."')
  expect(text).not.toContain("exceptions cleanup")
  const withExpired = renderExplain({ ...explained(), expired_local_exceptions: 2 })
  expect(withExpired).toEndWith("2 local exception(s) have expired and do nothing; remove them with: scc exceptions cleanup")
  expect(renderField(explainField(explained(), "denied"))).toStartWith("Denied additions (1)")
  expect(renderField(explainField(explained(), "network_policy"))).toStartWith("network_policy: unrestricted")
})
