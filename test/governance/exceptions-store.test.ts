import { expect, test } from "bun:test"
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { ConfigError, UsageError } from "../../src/errors"
import { parseTtl, resolveExpiry, type LocalException } from "../../src/governance/exceptions"
import { readStore, updateStore } from "../../src/governance/exceptions-store"
import { tmpdir } from "../support/tmpdir"

const NOW = new Date("2030-03-04T10:00:00Z")
const hours = (h: number) => new Date(NOW.getTime() + h * 3_600_000).toISOString()
const entry = (id: string, expires_at: string): LocalException => ({ id, reason: "r", created_at: NOW.toISOString(), expires_at, allow: { plugins: ["x@m"] } })

test("a missing or empty file is an empty store", async () => {
  await using tmp = await tmpdir()
  expect(await readStore(join(tmp.path, "none.json"), NOW)).toEqual({ exceptions: [], warnings: [], newer: false })
  writeFileSync(join(tmp.path, "empty.json"), "  \n")
  expect((await readStore(join(tmp.path, "empty.json"), NOW)).exceptions).toEqual([])
})

test("a corrupt file is moved to .bak-YYYYMMDD with a warning and read as empty; a second one gets its own name", async () => {
  await using tmp = await tmpdir()
  const path = join(tmp.path, "exceptions.json")
  writeFileSync(path, "{ not json")
  const r = await readStore(path, NOW)
  expect(r.exceptions).toEqual([])
  expect(r.warnings).toEqual([`${path} is not valid JSON; moved it to ${path}.bak-20300304 and started empty`])
  expect(existsSync(path)).toBe(false)
  expect(readFileSync(`${path}.bak-20300304`, "utf8")).toBe("{ not json")
  writeFileSync(path, "[1, 2]")
  expect((await readStore(path, NOW)).warnings[0]).toContain(`moved it to ${path}.bak-20300304.1`)
  writeFileSync(path, JSON.stringify({ schema_version: 1 }))
  expect((await readStore(path, NOW)).warnings[0]).toContain("has no exceptions list")
  expect(readdirSync(tmp.path).sort()).toEqual(["exceptions.json.bak-20300304", "exceptions.json.bak-20300304.1", "exceptions.json.bak-20300304.2"])
})

test("a file from a newer schema is ignored with a warning and never overwritten", async () => {
  await using tmp = await tmpdir()
  const path = join(tmp.path, "exceptions.json")
  const text = JSON.stringify({ schema_version: 2, exceptions: [entry("a", hours(1))], new_thing: true })
  writeFileSync(path, text)
  const r = await readStore(path, NOW)
  expect(r).toEqual({ exceptions: [], newer: true, warnings: [`${path} was written by a newer scc (schema_version 2); ignoring its exceptions. Upgrade scc to use them`] })
  await expect(updateStore({ path, scope: "user" }, NOW, (l) => [...l, entry("b", hours(1))])).rejects.toThrow(ConfigError)
  expect(readFileSync(path, "utf8")).toBe(text)
})

test("a malformed entry is skipped with a warning; the rest are read", async () => {
  await using tmp = await tmpdir()
  const path = join(tmp.path, "exceptions.json")
  writeFileSync(path, JSON.stringify({ schema_version: 1, exceptions: [entry("good", hours(1)), { id: "bad", reason: "r", allow: {} }, { ...entry("bad2", hours(1)), allow: { plugins: "x" } }] }))
  const r = await readStore(path, NOW)
  expect(r.exceptions.map((e) => e.id)).toEqual(["good"])
  expect(r.warnings).toHaveLength(2)
  expect(r.warnings[0]).toContain("exceptions[1] is malformed")
})

test("writes are atomic, prune expired entries, and use 0600 for the user file and 0644 for the repo file", async () => {
  await using tmp = await tmpdir()
  const user = join(tmp.path, "user", "exceptions.json")
  await updateStore({ path: user, scope: "user" }, NOW, () => [entry("old", hours(-1)), entry("now", NOW.toISOString()), entry("live", hours(2))])
  expect(JSON.parse(readFileSync(user, "utf8"))).toEqual({ schema_version: 1, exceptions: [entry("live", hours(2))] })
  expect(statSync(user).mode & 0o777).toBe(0o600)
  expect(readdirSync(join(tmp.path, "user"))).toEqual(["exceptions.json"]) // no temp file left behind
  const repo = join(tmp.path, "repo", ".scc", "exceptions.json")
  mkdirSync(join(tmp.path, "repo"))
  const r = await updateStore({ path: repo, scope: "repo" }, NOW, (l) => [...l, entry("shared", hours(3))])
  expect(r.after.map((e) => e.id)).toEqual(["shared"])
  expect(statSync(repo).mode & 0o777).toBe(0o644)
})

test("TTL: minutes, hours, days; more than zero; at most 24h", () => {
  expect(parseTtl("30m")).toBe(30 * 60_000)
  expect(parseTtl("8h")).toBe(8 * 3_600_000)
  expect(parseTtl("1d")).toBe(24 * 3_600_000)
  expect(parseTtl("24h")).toBe(24 * 3_600_000)
  for (const bad of ["8", "h", "1.5h", "8 h", "-1h", "8hours", "1w"]) expect(() => parseTtl(bad)).toThrow("is not a duration")
  expect(() => parseTtl("0m")).toThrow("longer than zero")
  expect(() => parseTtl("25h")).toThrow("longer than the 24h an exception may last")
  expect(() => parseTtl("2d")).toThrow(UsageError)
})

test("expiry from --ttl (default 8h), --expires-at or --until, one at a time, within 24h", () => {
  expect(resolveExpiry({}, NOW).toISOString()).toBe(hours(8))
  expect(resolveExpiry({ ttl: "90m" }, NOW).toISOString()).toBe(hours(1.5))
  expect(resolveExpiry({ expiresAt: "2030-03-04T18:00:00Z" }, NOW).toISOString()).toBe("2030-03-04T18:00:00.000Z")
  expect(() => resolveExpiry({ expiresAt: "2030-03-04T09:00:00Z" }, NOW)).toThrow("is in the past")
  expect(() => resolveExpiry({ expiresAt: "2030-03-06T09:00:00Z" }, NOW)).toThrow("more than 24h away")
  expect(() => resolveExpiry({ expiresAt: "tomorrow" }, NOW)).toThrow("is not an ISO 8601 timestamp")
  expect(() => resolveExpiry({ ttl: "1h", until: "17:00" }, NOW)).toThrow("give only one of --ttl, --expires-at and --until")
  expect(() => resolveExpiry({ until: "25:00" }, NOW)).toThrow("is not a time of day")
  // --until is local time: later today, or tomorrow when already past
  const later = new Date(NOW)
  later.setHours(NOW.getHours() + 2, 30, 0, 0)
  const hhmm = (d: Date) => `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`
  expect(resolveExpiry({ until: hhmm(later) }, NOW).getTime()).toBe(later.getTime())
  const earlier = new Date(NOW)
  earlier.setHours(NOW.getHours() - 1, 0, 0, 0)
  expect(resolveExpiry({ until: hhmm(earlier) }, NOW).getTime() - earlier.getTime()).toBe(24 * 3_600_000)
})
