import { expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { govWorld } from "../support/gov"
import { sampleOrgConfig } from "../support/org-fixtures"

function org() {
  const c = sampleOrgConfig()
  c.profiles.finance.additional_plugins.push("evil-tool@acme")
  c.profiles.finance.additional_mcp_servers = [{ name: "books", type: "http", url: "https://books.acme.test/mcp" }]
  return c
}

test("unblock finds a denied item's type, writes a local exception, and explain then lets it through", async () => {
  await using w = await govWorld(org(), { team: "finance" })
  const r = await w.run(["unblock", "ledger", "--reason", "month-end close", "--ttl", "4h"])
  expect(r.code).toBe(0)
  expect(r.stdout).toContain("Unblocked plugin ledger@acme (was: Team 'finance' not allowed to add plugins)")
  const file = JSON.parse(readFileSync(w.userExceptions, "utf8"))
  expect(file.exceptions).toHaveLength(1)
  expect(file.exceptions[0]).toMatchObject({ reason: "month-end close", allow: { plugins: ["ledger@acme"] } })
  const mcp = (await w.run(["unblock", "books", "--reason", "audit", "--shared", "--json"])).json()
  expect(mcp.data).toMatchObject({ scope: "repo", path: w.repoExceptions, exception: { allow: { mcp_servers: ["books"] } } })
  const d = (await w.run(["config", "explain", "--json"])).json().data
  expect(d.effective.plugins).toContain("ledger@acme")
  expect(d.effective.mcp_servers.map((s: { name: string }) => s.name)).toEqual(["books"])
  expect(d.exceptions.map((e: { scope: string }) => e.scope).sort()).toEqual(["repo", "user"])
})

test("unblock refuses a security-blocked item with exit 6 and points at the policy-exception route", async () => {
  await using w = await govWorld(org(), { team: "finance" })
  const r = await w.run(["unblock", "evil-tool@acme", "--reason", "please"])
  expect(r.code).toBe(6)
  expect(r.stderr).toContain("'evil-tool@acme' is blocked by security ('evil-*@*' in security.blocked_plugins); a local exception cannot lift a security block")
  expect(r.stderr).toContain(`Try: ask your org's admins for a policy exception: an entry in the org config's "exceptions" list`)
  expect(r.stderr).toContain('"allow":{"plugins":["evil-tool@acme"]}')
  expect(() => readFileSync(w.userExceptions)).toThrow() // nothing written
  const json = await w.run(["unblock", "evil-tool@acme", "--reason", "please", "--json"])
  expect(json.json().status.errors[0]).toMatchObject({ code: "blocked", details: { blocked: { item: "evil-tool@acme", blocked_by: "evil-*@*" } } })
})

test("unblock of an item that is neither blocked nor denied is not found; an allowed one says so", async () => {
  await using w = await govWorld(org(), { team: "finance" })
  const unknown = await w.run(["unblock", "nothing-here", "--reason", "r"])
  expect(unknown.code).toBe(1)
  expect(unknown.stderr).toContain("'nothing-here' is neither blocked nor denied for team 'finance'")
  const allowed = await w.run(["unblock", "lint@acme", "--reason", "r"])
  expect(allowed.code).toBe(1)
  expect(allowed.stderr).toContain("'lint@acme' is already allowed for team 'finance'; nothing to unblock")
  const noReason = await w.run(["unblock", "ledger"])
  expect(noReason.code).toBe(2)
  expect(noReason.stderr).toContain("an exception needs a reason")
})

test("a plugin reference that names no usable marketplace is refused when the org config is validated: no exception could help", async () => {
  const c = org()
  c.marketplaces.other = { source: "github", repo: "other/plugins" }
  c.profiles.finance.additional_plugins = ["vague"]
  await using w = await govWorld(c, { team: "finance" })
  const r = await w.run(["unblock", "vague", "--reason", "r"])
  // validate and the merge share one normaliser, so the config itself is refused (exit 3), naming the ref.
  expect(r.code).toBe(3)
  expect(r.stderr).toContain("Plugin 'vague' names no marketplace and the org config defines 2 (acme, other); write it as name@marketplace")
  expect(() => readFileSync(w.userExceptions)).toThrow()
})
