import { expect, test } from "bun:test"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { UsageError } from "../../src/errors"
import { parseTtl, type LocalException } from "../../src/governance/exceptions"
import { readStore, updateStore } from "../../src/governance/exceptions-store"
import { policySnippet } from "../../src/governance/exceptions-ops"
import { assertNotBlocked } from "../../src/sandbox/start"
import { tmpdir } from "../support/tmpdir"
import { merge, NOW, org } from "./fixtures"

// Behaviours taken from upstream scc's own test suite (v1.6.3), issue 15.

test("a blocked default plugin is a retroactive block: that plugin only, blocked_by and source org.security, the rest in force", () => {
  const r = merge({
    org: org({
      marketplaces: { acme: { source: "github", repo: "acme/plugins" } },
      defaults: { enabled_plugins: ["lint@acme", "evil@acme", "fmt@acme"] },
      security: { blocked_plugins: ["evil@*"] },
    }),
  })
  expect(r.effective.plugins).toEqual(["lint@acme", "fmt@acme"])
  expect(r.blocked).toEqual([{ item: "evil@acme", target_type: "plugin", blocked_by: "evil@*", source: "org.security", requested_by: "org.defaults" }])
  // The session still starts: a retroactive block is a warning at launch, not a refusal.
  expect(() => assertNotBlocked(r, () => "")).not.toThrow()
  expect(r.warnings.join("\n")).toContain("'evil@acme' is enabled by the org defaults but blocked by security ('evil@*'); the session starts without it")
})

test("a policy exception lifts a retroactive block", () => {
  const r = merge({
    org: org({
      marketplaces: { acme: { source: "github", repo: "acme/plugins" } },
      defaults: { enabled_plugins: ["evil@acme"] },
      security: { blocked_plugins: ["evil@*"] },
      exceptions: [{ id: "SEC-9", reason: "vetted build", allow: { plugins: ["evil@acme"] } }],
    }),
  })
  expect(r.effective.plugins).toEqual(["evil@acme"])
  expect(r.blocked).toEqual([])
  expect(r.exceptions.map((e) => [e.id, e.lifted[0]!.kind])).toEqual([["SEC-9", "blocked"]])
})

test("scc start still refuses blocked items a team, the project or --image asks for, saying how the launch can go ahead", () => {
  const r = merge({
    org: org({ security: { blocked_base_images: ["docker.io/*"] } }),
    image: "ubuntu:22.04",
  })
  expect(r.blocked.map((b) => b.item)).toEqual(["ubuntu:22.04"])
  let err: unknown
  try {
    assertNotBlocked(r, () => "(explanation)")
  } catch (e) {
    err = e
  }
  expect((err as Error).name).toBe("blocked")
  expect((err as Error).message).toContain("the launch requests 1 item blocked by org security policy")
  expect((err as { hint?: string }).hint).toContain("the launch goes ahead without them, or ask your org admin for a policy exception")
  // An image from another registry is not Docker Hub's.
  expect(merge({ org: org({ security: { blocked_base_images: ["docker.io/*"] } }), image: "ghcr.io/owner/repo:v1" }).blocked).toEqual([])
})

test("--ttl units are case-insensitive", () => {
  expect(parseTtl("8H")).toBe(8 * 3_600_000)
  expect(parseTtl("30M")).toBe(30 * 60_000)
  expect(parseTtl("1D")).toBe(86_400_000)
  expect(() => parseTtl("8X")).toThrow(UsageError)
})

test("unknown fields in exceptions.json, at file level and per exception, survive every rewrite", async () => {
  await using tmp = await tmpdir()
  const path = join(tmp.path, "exceptions.json")
  const future = new Date(NOW.getTime() + 3_600_000).toISOString()
  writeFileSync(
    path,
    JSON.stringify({ schema_version: 1, owner: "team-x", sync: { v: 2 }, exceptions: [{ id: "aa", reason: "r", created_at: NOW.toISOString(), expires_at: future, allow: { plugins: ["x@m"], future_kind: ["y"] }, ticket: "T-1" }] }),
  )
  const added: LocalException = { id: "bb", reason: "r2", created_at: NOW.toISOString(), expires_at: future, allow: { mcp_servers: ["jira"] } }
  await updateStore({ path, scope: "user" }, NOW, (list) => [...list, added])
  const written = JSON.parse(readFileSync(path, "utf8"))
  expect(written.owner).toBe("team-x")
  expect(written.sync).toEqual({ v: 2 })
  expect(written.exceptions[0].ticket).toBe("T-1")
  expect(written.exceptions[0].allow.future_kind).toEqual(["y"])
  expect((await readStore(path, NOW)).exceptions.map((e) => e.id)).toEqual(["aa", "bb"])
})

test("--policy --id prints the policy-exception snippet; --policy without --id is an error", () => {
  const s = policySnippet({ id: "SEC-12", reason: "vetted", allow: { plugins: ["evil@acme"] }, ttl: "2h", now: NOW })
  expect(s).toEqual({ id: "SEC-12", reason: "vetted", allow: { plugins: ["evil@acme"] }, expires_at: new Date(NOW.getTime() + 2 * 3_600_000).toISOString() })
  expect(() => policySnippet({ id: undefined, reason: "vetted", allow: { plugins: ["evil@acme"] }, now: NOW })).toThrow("--policy needs --id")
})
