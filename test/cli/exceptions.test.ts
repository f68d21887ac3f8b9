import { expect, test } from "bun:test"
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { govWorld } from "../support/gov"
import { sampleOrgConfig } from "../support/org-fixtures"
import { tmpdir } from "../support/tmpdir"

const HOUR = 3_600_000
const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString()
const stored = (path: string) => JSON.parse(readFileSync(path, "utf8"))
const entry = (id: string, expires_at: string) => ({ id, reason: "seeded", created_at: iso(-2 * HOUR), expires_at, allow: { plugins: [`${id}@acme`] } })

test("create writes the user file (0600) with the TTL, reason and target; list shows it", async () => {
  await using w = await govWorld(sampleOrgConfig(), { team: "finance" })
  const before = Date.now()
  const r = await w.run(["exceptions", "create", "--reason", "sprint demo", "--allow-plugin", "ledger@acme", "--ttl", "2h", "--json"])
  expect(r.code).toBe(0)
  const made = r.json().data
  expect(made.scope).toBe("user")
  expect(made.path).toBe(w.userExceptions)
  expect(made.exception.id).toMatch(/^[0-9a-f]{8}$/)
  const expires = Date.parse(made.exception.expires_at)
  expect(expires - before).toBeGreaterThanOrEqual(2 * HOUR)
  expect(expires - Date.now()).toBeLessThanOrEqual(2 * HOUR)
  expect(stored(w.userExceptions)).toEqual({ schema_version: 1, exceptions: [made.exception] })
  expect(made.exception).toMatchObject({ reason: "sprint demo", allow: { plugins: ["ledger@acme"] } })
  expect(statSync(w.userExceptions).mode & 0o777).toBe(0o600)

  const list = await w.run(["exceptions", "list"])
  expect(list.code).toBe(0)
  expect(list.stdout).toMatch(new RegExp(`${made.exception.id}\\s+user\\s+plugin ledger@acme\\s+\\S+\\s+sprint demo`))
  // the exception now lifts the denial
  const explained = (await w.run(["config", "explain", "--json"])).json().data
  expect(explained.effective.plugins).toContain("ledger@acme")
})

test("create refuses bad input with usage errors that say how to fix it, writing nothing", async () => {
  await using w = await govWorld(sampleOrgConfig(), { team: "finance" })
  const cases: [string[], string][] = [
    [["--allow-plugin", "x@acme"], "an exception needs a reason"],
    [["--reason", "r"], "name what the exception allows"],
    [["--reason", "r", "--allow-mcp", "m", "--ttl", "25h"], "--ttl '25h' is longer than the 24h an exception may last"],
    [["--reason", "r", "--allow-mcp", "m", "--ttl", "soon"], "--ttl 'soon' is not a duration"],
    [["--reason", "r", "--allow-mcp", "m", "--ttl", "1h", "--until", "17:00"], "give only one of --ttl, --expires-at and --until"],
    [["--reason", "r", "--allow-mcp", "m", "--expires-at", iso(-HOUR)], "is in the past"],
  ]
  for (const [args, message] of cases) {
    const r = await w.run(["exceptions", "create", ...args])
    expect([args.join(" "), r.code]).toEqual([args.join(" "), 2])
    expect(r.stderr).toContain(message)
    expect(r.stderr).toContain("Try: ")
  }
  expect(() => statSync(w.userExceptions)).toThrow()
})

test("--shared writes the repository's .scc/exceptions.json, and only inside a repository", async () => {
  await using w = await govWorld(sampleOrgConfig(), { team: "finance" })
  const r = await w.run(["exceptions", "create", "--reason", "team demo", "--allow-mcp", "jira", "--until", "23:59", "--shared", "--json"])
  expect(r.code).toBe(0)
  expect(r.json().data.path).toBe(w.repoExceptions)
  expect(stored(w.repoExceptions).exceptions[0].allow).toEqual({ mcp_servers: ["jira"] })
  await using outside = await tmpdir()
  const bad = await w.run(["exceptions", "create", "--reason", "x", "--allow-mcp", "jira", "--shared"], { cwd: outside.path })
  expect(bad.code).toBe(2)
  expect(bad.stderr).toContain("not inside a git repository")
})

test("list filters active, --expired and --all, and shows the org's policy exceptions", async () => {
  const org = sampleOrgConfig()
  org.exceptions = [{ id: "INC-7", reason: "vendor trial", allow: { plugins: ["vendor@acme"] }, expires_at: iso(5 * HOUR) }]
  await using w = await govWorld(org, { team: "finance" })
  writeFileSync(w.userExceptions, JSON.stringify({ schema_version: 1, exceptions: [entry("aaaa1111", iso(HOUR)), entry("bbbb2222", iso(-HOUR))] }))
  const ids = async (...flags: string[]) => (await w.run(["exceptions", "list", "--json", ...flags])).json().data.exceptions.map((e: { id: string }) => e.id)
  expect(await ids()).toEqual(["aaaa1111", "INC-7"])
  expect(await ids("--expired")).toEqual(["bbbb2222"])
  expect(await ids("--all")).toEqual(["aaaa1111", "bbbb2222", "INC-7"])
  const both = await w.run(["exceptions", "list", "--all", "--expired"])
  expect(both.code).toBe(2)
})

test("delete takes a unique id prefix from either store; ambiguous or unknown prefixes are refused", async () => {
  await using w = await govWorld(sampleOrgConfig(), { team: "finance" })
  writeFileSync(w.userExceptions, JSON.stringify({ schema_version: 1, exceptions: [entry("abcd0001", iso(HOUR)), entry("abce0002", iso(HOUR))] }))
  mkdirSync(join(w.repo, ".scc"))
  writeFileSync(w.repoExceptions, JSON.stringify({ schema_version: 1, exceptions: [entry("ffff0003", iso(HOUR))] }))
  const ambiguous = await w.run(["exceptions", "delete", "ab"])
  expect(ambiguous.code).toBe(2)
  expect(ambiguous.stderr).toContain("'ab' matches 2 exceptions: abcd0001, abce0002")
  const missing = await w.run(["exceptions", "delete", "0000"])
  expect(missing.code).toBe(1)
  expect((await w.run(["exceptions", "delete", "ABCD"])).code).toBe(0)
  expect(stored(w.userExceptions).exceptions.map((e: { id: string }) => e.id)).toEqual(["abce0002"])
  const repo = await w.run(["exceptions", "delete", "ffff", "--json"])
  expect(repo.json().data).toMatchObject({ scope: "repo", path: w.repoExceptions })
  expect(stored(w.repoExceptions).exceptions).toEqual([])
})

test("cleanup removes expired entries and keeps live ones", async () => {
  await using w = await govWorld(sampleOrgConfig(), { team: "finance" })
  writeFileSync(w.userExceptions, JSON.stringify({ schema_version: 1, exceptions: [entry("live0001", iso(HOUR)), entry("dead0001", iso(-HOUR))] }))
  const r = await w.run(["exceptions", "cleanup", "--json"])
  expect(r.code).toBe(0)
  expect(r.json().data.removed.map((e: { id: string }) => e.id)).toEqual(["dead0001"])
  expect(stored(w.userExceptions).exceptions.map((e: { id: string }) => e.id)).toEqual(["live0001"])
  expect((await w.run(["exceptions", "cleanup"])).stdout.trim()).toBe("No expired exceptions.")
})

test("a newer schema's file is ignored with a warning and left alone by create", async () => {
  await using w = await govWorld(sampleOrgConfig(), { team: "finance" })
  const text = JSON.stringify({ schema_version: 9, exceptions: [] })
  writeFileSync(w.userExceptions, text)
  const list = (await w.run(["exceptions", "list", "--json"])).json()
  expect(list.status.warnings[0]).toContain("was written by a newer scc (schema_version 9)")
  const create = await w.run(["exceptions", "create", "--reason", "r", "--allow-mcp", "m"])
  expect(create.code).toBe(3)
  expect(create.stderr).toContain("not overwriting it")
  expect(readFileSync(w.userExceptions, "utf8")).toBe(text)
})

test("reset --user needs --yes, then empties the store after a backup; --policy --id prints the snippet and writes nothing", async () => {
  await using w = await govWorld(sampleOrgConfig(), { team: "finance" })
  mkdirSync(join(w.userExceptions, ".."), { recursive: true })
  writeFileSync(w.userExceptions, JSON.stringify({ schema_version: 1, note: "kept", exceptions: [entry("aa11", iso(HOUR)), entry("bb22", iso(2 * HOUR))] }))
  const refused = await w.run(["exceptions", "reset", "--user"])
  expect(refused.code).toBe(2)
  expect(refused.stderr).toContain("--yes")
  expect(stored(w.userExceptions).exceptions).toHaveLength(2)
  const neither = await w.run(["exceptions", "reset", "--yes"])
  expect(neither.code).toBe(2)
  const done = await w.run(["exceptions", "reset", "--user", "--yes", "--json"])
  expect(done.code).toBe(0)
  const d = done.json().data
  expect(d.removed).toBe(2)
  expect(stored(w.userExceptions)).toEqual({ note: "kept", schema_version: 1, exceptions: [] })
  expect(stored(d.backup).exceptions.map((e: { id: string }) => e.id)).toEqual(["aa11", "bb22"])

  const snippet = await w.run(["exceptions", "create", "--policy", "--id", "SEC-7", "--reason", "vetted", "--allow-plugin", "evil@acme", "--ttl", "1D", "--json"])
  expect(snippet.code).toBe(0)
  expect(snippet.json().data).toMatchObject({ id: "SEC-7", reason: "vetted", allow: { plugins: ["evil@acme"] } })
  expect(stored(w.userExceptions).exceptions).toEqual([])
  const text = await w.run(["exceptions", "create", "--policy", "--id", "SEC-7", "--reason", "vetted", "--allow-plugin", "evil@acme"])
  expect(text.stdout).toContain('Add this to the "exceptions" list of the org config')
  const noId = await w.run(["exceptions", "create", "--policy", "--reason", "vetted", "--allow-plugin", "evil@acme"])
  expect(noId.code).toBe(2)
  expect(noId.stderr).toContain("--policy needs --id")
})

test("text config explain prints an scc unblock line per denied item and counts expired local exceptions", async () => {
  await using w = await govWorld(sampleOrgConfig(), { team: "finance" })
  mkdirSync(join(w.userExceptions, ".."), { recursive: true })
  writeFileSync(w.userExceptions, JSON.stringify({ schema_version: 1, exceptions: [entry("old1", iso(-HOUR))] }))
  const r = await w.run(["config", "explain"])
  expect(r.code).toBe(0)
  expect(r.stdout).toMatch(/scc unblock \S+ --ttl 8h --reason "\.\.\."/)
  expect(r.stdout).toContain("1 local exception(s) have expired and do nothing; remove them with: scc exceptions cleanup")
})
