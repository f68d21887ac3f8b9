import { expect, test } from "bun:test"
import type { ScopedLocalException } from "../../src/governance/exceptions"
import { baseOrg, merge, NOW, org } from "./fixtures"

const later = new Date(NOW.getTime() + 3_600_000).toISOString()
const earlier = new Date(NOW.getTime() - 1).toISOString()

function local(scope: "user" | "repo", allow: ScopedLocalException["allow"], expires_at = later): ScopedLocalException {
  return { id: `${scope}-1`, scope, reason: "demo", created_at: NOW.toISOString(), expires_at, allow }
}

const blockedLedger = { blocked_plugins: ["ledger*"] }

test("a policy exception lifts a security block and says so", () => {
  const o = baseOrg({
    security: blockedLedger,
    delegation: { teams: { allow_additional_plugins: ["finance"] } },
    exceptions: [{ id: "INC-1", reason: "vendor demo", allow: { plugins: ["ledger@acme"] }, expires_at: later }],
  })
  const r = merge({ org: o, team: "finance" })
  expect(r.effective.plugins).toEqual(["lint@acme", "ledger@acme"])
  expect(r.blocked).toEqual([])
  expect(r.exceptions).toEqual([
    { id: "INC-1", scope: "policy", reason: "vendor demo", expires_at: later, lifted: [{ item: "ledger@acme", target_type: "plugin", kind: "blocked" }] },
  ])
  expect(r.decisions.find((d) => d.value === "ledger@acme")?.reason).toBe("added by team 'finance'; let through by exception INC-1")
})

test("a policy exception lifts a block and a denial together", () => {
  const o = baseOrg({ security: blockedLedger, exceptions: [{ id: "INC-2", reason: "r", allow: { plugins: ["ledger"] } }] })
  const r = merge({ org: o, team: "finance" })
  expect(r.effective.plugins).toContain("ledger@acme")
  expect(r.exceptions[0]!.lifted.map((l) => l.kind)).toEqual(["blocked", "denied"])
})

test("a local exception never lifts a security block, from either store", () => {
  const o = baseOrg({ security: blockedLedger, delegation: { teams: { allow_additional_plugins: ["*"] } } })
  for (const scope of ["user", "repo"] as const) {
    const r = merge({ org: o, team: "finance", localExceptions: [local(scope, { plugins: ["*"] })] })
    expect(r.effective.plugins).toEqual(["lint@acme"])
    expect(r.blocked.map((b) => b.item)).toEqual(["ledger@acme"])
    expect(r.exceptions).toEqual([])
  }
})

test("a local exception lifts a delegation denial", () => {
  const r = merge({ org: baseOrg(), team: "finance", localExceptions: [local("user", { mcp_servers: ["books"] }), local("repo", { plugins: ["ledger@acme"] })] })
  expect(r.effective.plugins).toEqual(["lint@acme", "ledger@acme"])
  expect(r.effective.mcp_servers.map((s) => s.name)).toEqual(["books"])
  expect(r.denied).toEqual([])
  expect(r.exceptions.map((e) => [e.scope, e.lifted[0]!.item, e.lifted[0]!.kind])).toEqual([
    ["repo", "ledger@acme", "denied"],
    ["user", "books", "denied"],
  ])
})

test("a local exception does not lift a denial when the item is also blocked", () => {
  const r = merge({ org: baseOrg({ security: blockedLedger }), team: "finance", localExceptions: [local("user", { plugins: ["ledger*"] })] })
  expect(r.blocked.map((b) => b.item)).toEqual(["ledger@acme"])
  expect(r.denied.map((d) => d.item)).toEqual(["books"])
  expect(r.exceptions).toEqual([])
})

test("expired exceptions do nothing", () => {
  const o = baseOrg({ security: blockedLedger, exceptions: [{ id: "OLD", reason: "r", allow: { plugins: ["*"] }, expires_at: earlier }] })
  const r = merge({ org: o, team: "finance", localExceptions: [local("user", { mcp_servers: ["*"] }, earlier)] })
  expect(r.effective.plugins).toEqual(["lint@acme"])
  expect(r.effective.mcp_servers).toEqual([])
  expect(r.exceptions).toEqual([])
  // expiry is exclusive: an exception that expires exactly now is over
  const atNow = merge({ org: baseOrg(), team: "finance", localExceptions: [local("user", { mcp_servers: ["*"] }, NOW.toISOString())] })
  expect(atNow.effective.mcp_servers).toEqual([])
})

test("a policy exception with teams applies to matching teams only", () => {
  const o = baseOrg({ security: { blocked_plugins: ["*"] }, exceptions: [{ id: "FIN", reason: "r", teams: ["fin*"], allow: { plugins: ["lint@acme"] } }] })
  expect(merge({ org: o, team: "finance" }).effective.plugins).toEqual(["lint@acme"])
  expect(merge({ org: o, team: "platform" }).effective.plugins).toEqual([])
  expect(merge({ org: o }).effective.plugins).toEqual([]) // no team selected: a team-scoped exception does not apply
})

test("policy exceptions lift blocked images (matched in policy form) and the stdio gate", () => {
  const o = org({
    security: { blocked_base_images: ["ubuntu"], allow_stdio_mcp: false },
    defaults: { sandbox: { image: "docker.io/library/ubuntu:22.04" }, mcp_servers: [{ name: "fs", type: "stdio", command: "/bin/fs" }] },
    exceptions: [{ id: "IMG", reason: "legacy build", allow: { base_images: ["ubuntu:22.*"], mcp_servers: ["fs"] } }],
  })
  const r = merge({ org: o })
  expect(r.effective.image).toBe("docker.io/library/ubuntu:22.04")
  expect(r.effective.mcp_servers.map((s) => s.name)).toEqual(["fs"])
  expect(r.exceptions[0]!.lifted.map((l) => l.target_type).sort()).toEqual(["image", "mcp_server"])
})

test("only exceptions that changed something are reported", () => {
  const o = baseOrg({ exceptions: [{ id: "UNUSED", reason: "r", allow: { plugins: ["nothing-matches"] } }] })
  const r = merge({ org: o, team: "finance", localExceptions: [local("user", { plugins: ["lint@acme"] })] })
  expect(r.exceptions).toEqual([]) // lint@acme was never refused, so the local one changed nothing either
})
