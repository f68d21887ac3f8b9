import { expect, test } from "bun:test"
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cli } from "../support/cli"
import { tmpdir } from "../support/tmpdir"

// Each "user" is a cache directory of its own with a usage log in it.

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString()

function event(type: "session_start" | "session_end", session: string, ts: string, o: Record<string, unknown> = {}) {
  const base = { v: 1, type, ts, session, user: "u1", project: "app", team: "core" }
  return JSON.stringify(type === "session_start" ? { ...base, branch: null, expected_hours: 2, ...o } : { ...base, duration_s: 1800, exit_code: 0, ...o })
}

function userCache(root: string, name: string, lines: string[]): Record<string, string> {
  const cache = join(root, name)
  mkdirSync(join(cache, "scc"), { recursive: true })
  writeFileSync(join(cache, "scc", "usage.jsonl"), `${lines.join("\n")}\n`)
  return { XDG_CACHE_HOME: cache }
}

test("stats summarises sessions, counts incomplete ones and reports bad lines", async () => {
  await using tmp = await tmpdir()
  const env = userCache(tmp.path, "alice", [
    event("session_start", "a", hoursAgo(5)),
    event("session_end", "a", hoursAgo(4.5)),
    "{not json",
    event("session_start", "b", hoursAgo(30), { project: "web", team: null }), // never ended: 2 h expected
    event("session_start", "c", hoursAgo(24 * 20)),
    event("session_end", "c", hoursAgo(24 * 20 - 1), { duration_s: 3600 }),
  ])
  const all = await cli(["stats", "--json"], { env })
  expect(all.code).toBe(0)
  const d = all.json().data
  expect(d.totals).toMatchObject({ sessions: 3, completed: 2, incomplete: 1, total_duration_s: 1800 + 7200 + 3600 })
  expect(d.by_project.web).toMatchObject({ sessions: 1, incomplete: 1, total_duration_s: 7200 })
  expect(d.by_team["(none)"].sessions).toBe(1)
  expect(d.bad_lines).toBe(1)
  expect(all.json().status.warnings[0]).toContain("skipped 1 unreadable line")

  const week = (await cli(["stats", "--days", "7", "--json"], { env })).json().data
  expect(week.totals.sessions).toBe(2)

  const text = await cli(["stats"], { env })
  expect(text.code).toBe(0)
  expect(text.stdout).toContain("3 (2 completed, 1 incomplete, 0 active)")
  expect(text.stdout).toMatch(/web\s+1\s+1\s+0\s+2h/)
  expect(text.stderr).toContain("warning: skipped 1 unreadable line")

  const bad = await cli(["stats", "--days", "soon"], { env })
  expect(bad.code).toBe(2)
  expect(bad.stderr).toContain("--days must be a whole number")
})

test("stats export -o writes atomically; --raw adds the events; aggregate sums users' exports", async () => {
  await using tmp = await tmpdir()
  const alice = userCache(tmp.path, "alice", [event("session_start", "a1", hoursAgo(3), { user: "alice" }), event("session_end", "a1", hoursAgo(2.5), { user: "alice" })])
  const bob = userCache(tmp.path, "bob", [
    event("session_start", "b1", hoursAgo(3), { user: "bob", project: "web", team: "front" }),
    event("session_end", "b1", hoursAgo(2), { user: "bob", project: "web", team: "front", duration_s: 3600 }),
    event("session_start", "b2", hoursAgo(1), { user: "bob" }),
    event("session_end", "b2", hoursAgo(0.5), { user: "bob" }),
    "garbage",
  ])
  const out = join(tmp.path, "exports")
  mkdirSync(out)
  const a = await cli(["stats", "export", "--json", "-o", join(out, "alice.json")], { env: alice })
  expect(a.code).toBe(0)
  expect(a.json().data).toEqual({ path: join(out, "alice.json"), sessions: 1, raw: false })
  const b = await cli(["stats", "export", "--json", "--raw", "-o", join(out, "bob.json")], { env: bob })
  expect(b.code).toBe(0)
  expect(readdirSync(out).sort()).toEqual(["alice.json", "bob.json"]) // no temp files left
  expect(statSync(join(out, "bob.json")).mode & 0o777).toBe(0o600)

  const bobDoc = await Bun.file(join(out, "bob.json")).json()
  expect(bobDoc).toMatchObject({ schemaVersion: 1, kind: "scc.usage.export" })
  expect(bobDoc.events.map((e: { session: string; type: string }) => `${e.session}:${e.type}`)).toEqual(["b1:session_start", "b1:session_end", "b2:session_start", "b2:session_end"])
  expect((await Bun.file(join(out, "alice.json")).json()).events).toBeUndefined()

  // stdout form (envelope) is accepted by aggregate as well
  const stdoutExport = await cli(["stats", "export", "--json"], { env: alice })
  writeFileSync(join(out, "alice-envelope.json"), stdoutExport.stdout)
  expect(stdoutExport.json().data.kind).toBe("scc.usage.export")

  const agg = await cli(["stats", "aggregate", join(out, "alice.json"), join(out, "bob.json"), "--json"])
  expect(agg.code).toBe(0)
  const g = agg.json().data
  expect(g.files).toBe(2)
  expect(g.bad_lines).toBe(1)
  expect(g.totals).toMatchObject({ sessions: 3, completed: 3, total_duration_s: 1800 + 3600 + 1800, users: ["alice", "bob"] })
  expect(g.by_project.app).toMatchObject({ sessions: 2, total_duration_s: 3600, users: ["alice", "bob"] })
  expect(g.by_team.front).toMatchObject({ sessions: 1, total_duration_s: 3600, users: ["bob"] })

  const viaEnvelope = await cli(["stats", "aggregate", join(out, "alice-envelope.json"), join(out, "bob.json"), "--json"])
  expect(viaEnvelope.json().data.totals.sessions).toBe(3)
  const human = await cli(["stats", "aggregate", join(out, "alice.json"), join(out, "bob.json")])
  expect(human.stdout).toMatch(/app\s+2\s+0\s+0\s+1h\s+30m\s+2/)

  writeFileSync(join(out, "other.json"), '{"something":"else"}')
  const foreign = await cli(["stats", "aggregate", join(out, "other.json")])
  expect(foreign.code).toBe(2)
  expect(foreign.stderr).toContain("is not a usage export")
  expect((await cli(["stats", "aggregate", join(out, "missing.json")])).code).toBe(1)
  expect((await cli(["stats", "aggregate"])).code).toBe(2)
})

test("stats reads the org config from the cache: its session timeout counts unended sessions, and a disabled policy is noted", async () => {
  await using tmp = await tmpdir()
  const env = userCache(tmp.path, "carol", [event("session_start", "x", hoursAgo(10), { expected_hours: null })])
  const org = join(tmp.path, "org.json")
  writeFileSync(org, JSON.stringify({ schema_version: "1", organization: { name: "Acme" }, defaults: { session: { timeout_hours: 3 } }, stats: { enabled: false } }))
  const withOrg = { ...env, SCC_ORG_SOURCE: org, XDG_CONFIG_HOME: join(tmp.path, "config") }
  const r = await cli(["stats", "--json"], { env: withOrg })
  expect(r.code).toBe(0)
  expect(r.json().data.totals).toMatchObject({ incomplete: 1, total_duration_s: 3 * 3600 })
  expect(r.json().status.warnings).toEqual([expect.stringContaining("stats.enabled: false")])
  // without an org config, the fallback (8 h) applies and nothing is warned
  const bare = await cli(["stats", "--json"], { env })
  expect(bare.json().data.totals.total_duration_s).toBe(8 * 3600)
  expect(bare.json().status.warnings).toEqual([])
})
