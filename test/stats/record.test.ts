import { expect, test } from "bun:test"
import { createHmac } from "node:crypto"
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { parseEvent, type StatsPolicy } from "../../src/stats/events"
import { installSalt, saltFile, userIdentity } from "../../src/stats/identity"
import { recordSessionEnd, recordSessionStart } from "../../src/stats/record"
import { readUsage } from "../../src/stats/summary"
import { tmpdir } from "../support/tmpdir"

const policy = (p: Partial<StatsPolicy> = {}): StatsPolicy => ({ enabled: true, user_identity_mode: "clear", retention_days: 90, ...p })
const clock = (...times: string[]) => {
  let i = 0
  return () => new Date(times[Math.min(i++, times.length - 1)]!)
}

test("start and end are recorded with duration, exit status and session details", async () => {
  await using tmp = await tmpdir()
  const file = join(tmp.path, "usage.jsonl")
  const now = clock("2025-05-01T10:00:00Z", "2025-05-01T11:30:00Z")
  const h = recordSessionStart({ project: "app", team: "backend", branch: "scc/x", expectedHours: 4 }, { file, policy: policy(), user: "ada", now })
  recordSessionEnd(h, { exitCode: 3 })
  const lines = (await Bun.file(file).text()).trim().split("\n").map((l) => JSON.parse(l))
  expect(lines).toEqual([
    { v: 1, type: "session_start", ts: "2025-05-01T10:00:00.000Z", session: h.id, user: "ada", project: "app", team: "backend", branch: "scc/x", expected_hours: 4 },
    { v: 1, type: "session_end", ts: "2025-05-01T11:30:00.000Z", session: h.id, user: "ada", project: "app", team: "backend", duration_s: 5400, exit_code: 3 },
  ])
  expect(lines.every((l) => parseEvent(JSON.stringify(l)) !== null)).toBe(true)
  expect(statSync(file).mode & 0o777).toBe(0o600)
})

test("stats.enabled = false writes nothing at all", async () => {
  await using tmp = await tmpdir()
  const file = join(tmp.path, "usage.jsonl")
  rmSync(saltFile(), { force: true })
  const h = recordSessionStart({ project: "app" }, { file, policy: policy({ enabled: false, user_identity_mode: "hash" }), user: "ada" })
  recordSessionEnd(h, { exitCode: 0 })
  expect(h.recorded).toBe(false)
  expect(existsSync(file)).toBe(false)
  expect(existsSync(saltFile())).toBe(false)
  expect(readdirSync(tmp.path)).toEqual([])
})

test("identity modes: clear keeps the name, anonymous drops it, hash is a stable keyed HMAC", async () => {
  await using tmp = await tmpdir()
  const file = join(tmp.path, "usage.jsonl")
  for (const mode of ["clear", "anonymous", "hash"] as const) {
    recordSessionStart({ project: "p" }, { file, policy: policy({ user_identity_mode: mode }), user: "ada", orgId: "acme" })
  }
  const users = (await readUsage(file)).events.map((e) => e.user)
  expect(users[0]).toBe("ada")
  expect(users[1]).toBeNull()
  expect(users[2]).toMatch(/^h:[0-9a-f]{16}$/)
  const hashedLine = (await Bun.file(file).text()).trim().split("\n")[2]!
  expect(hashedLine).not.toContain("ada")

  // The hash is HMAC-SHA256 keyed by the per-install secret over org + NUL + user.
  const salt = installSalt()
  expect(statSync(saltFile()).mode & 0o777).toBe(0o600)
  const expected = createHmac("sha256", salt).update("acme\0ada").digest("hex").slice(0, 16)
  expect(users[2]).toBe(`h:${expected}`)
  // Stable across calls; different per user, org and install secret.
  expect(userIdentity({ user: "ada", mode: "hash", orgId: "acme" })).toBe(users[2]!)
  expect(userIdentity({ user: "bob", mode: "hash", orgId: "acme" })).not.toBe(users[2]!)
  expect(userIdentity({ user: "ada", mode: "hash", orgId: "other" })).not.toBe(users[2]!)
  expect(userIdentity({ user: "ada", mode: "hash", orgId: "acme", salt: "f".repeat(64) })).not.toBe(users[2]!)
  expect(userIdentity({ user: undefined, mode: "clear" })).toBeNull()
})

test("retention prunes lines older than retention_days on the next start, atomically, keeping bad lines", async () => {
  await using tmp = await tmpdir()
  const file = join(tmp.path, "usage.jsonl")
  const ev = (ts: string, session: string) => JSON.stringify({ v: 1, type: "session_start", ts, session, user: null, project: "p", team: null, branch: null, expected_hours: 1 })
  writeFileSync(file, ["{broken", ev("2025-01-01T00:00:00Z", "old1"), ev("2025-01-20T00:00:00Z", "old2"), "not json", ev("2025-03-01T00:00:00Z", "recent"), ""].join("\n"))
  recordSessionStart({ project: "p" }, { file, policy: policy({ retention_days: 30 }), now: clock("2025-03-10T00:00:00Z") })
  const log = await readUsage(file)
  expect(log.events.map((e) => e.session).slice(0, 1)).toEqual(["recent"])
  expect(log.events).toHaveLength(2)
  expect(log.badLines).toBe(2)
  expect(readdirSync(tmp.path)).toEqual(["usage.jsonl"])

  // Nothing due: the file is not rewritten (same inode).
  const ino = statSync(file).ino
  recordSessionStart({ project: "p" }, { file, policy: policy({ retention_days: 30 }), now: clock("2025-03-11T00:00:00Z") })
  expect(statSync(file).ino).toBe(ino)
})

test("a usage file that cannot be written never stops the session", async () => {
  await using tmp = await tmpdir()
  writeFileSync(join(tmp.path, "not-a-dir"), "")
  const file = join(tmp.path, "not-a-dir", "usage.jsonl") // its parent is a file
  const h = recordSessionStart({ project: "p" }, { file, policy: policy() })
  expect(h.recorded).toBe(false)
  expect(() => recordSessionEnd(h, { exitCode: 0 })).not.toThrow()
})
