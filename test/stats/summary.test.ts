import { expect, test } from "bun:test"
import { aggregate, buildExport, parseExport } from "../../src/stats/export"
import { parseUsage, summarize, toSessions } from "../../src/stats/summary"
import { UsageError } from "../../src/errors"

const start = (session: string, ts: string, o: { project?: string; team?: string | null; user?: string | null; expected?: number | null } = {}) =>
  JSON.stringify({ v: 1, type: "session_start", ts, session, user: o.user === undefined ? "u1" : o.user, project: o.project ?? "app", team: o.team === undefined ? "core" : o.team, branch: null, expected_hours: o.expected ?? null })
const end = (session: string, ts: string, duration_s: number, o: { project?: string; team?: string | null; user?: string | null } = {}) =>
  JSON.stringify({ v: 1, type: "session_end", ts, session, user: o.user === undefined ? "u1" : o.user, project: o.project ?? "app", team: o.team === undefined ? "core" : o.team, duration_s, exit_code: 0 })

const now = new Date("2025-06-10T12:00:00Z")

test("bad lines are skipped and counted; duplicate events count once", () => {
  const log = parseUsage(
    [start("a", "2025-06-10T08:00:00Z"), "garbage", '{"v":1,"type":"session_start"}', start("a", "2025-06-10T08:00:00Z"), '{"v":2}', "", "[1,2]", end("a", "2025-06-10T09:00:00Z", 3600)].join("\n"),
  )
  expect(log.badLines).toBe(4)
  expect(log.events).toHaveLength(2)
})

test("an unterminated last line is a write in progress: used when complete, never counted as bad", () => {
  const full = start("a", "2025-06-10T08:00:00Z")
  expect(parseUsage(`${full}\n${full.slice(0, 40)}`)).toEqual({ events: [parseUsage(full + "\n").events[0]!], badLines: 0 })
  expect(parseUsage(`${start("b", "2025-06-10T08:00:00Z")}`).events.map((e) => e.session)).toEqual(["b"])
})

test("an unended session is incomplete at its expected duration once that has passed, active before", () => {
  const log = parseUsage(
    [
      start("done", "2025-06-10T01:00:00Z"),
      end("done", "2025-06-10T01:30:00Z", 1800),
      start("lost", "2025-06-09T00:00:00Z", { expected: 2 }), // 2 h expected, long past
      start("lost-default", "2025-06-09T00:00:00Z"), // no expected_hours recorded: the default (8 h)
      start("running", "2025-06-10T11:00:00Z", { expected: 4 }), // 1 h in, 4 h expected
      end("orphan", "2025-06-10T10:00:00Z", 600), // start pruned away
    ].join("\n"),
  )
  const sessions = toSessions(log.events, { now, defaultExpectedHours: 8 })
  expect(sessions.map((s) => [s.id, s.state, s.duration_s])).toEqual([
    ["lost", "incomplete", 7200],
    ["lost-default", "incomplete", 28800],
    ["done", "completed", 1800],
    ["orphan", "completed", 600],
    ["running", "active", 3600],
  ])
  expect(sessions.find((s) => s.id === "orphan")!.start).toBe("2025-06-10T09:50:00.000Z")
})

test("summaries sum per project and team, filtered by --days", () => {
  const log = parseUsage(
    [
      start("1", "2025-06-10T01:00:00Z", { project: "api", team: "backend", user: "u1" }),
      end("1", "2025-06-10T02:00:00Z", 3600, { project: "api", team: "backend", user: "u1" }),
      start("2", "2025-06-09T01:00:00Z", { project: "api", team: "backend", user: "u2" }),
      end("2", "2025-06-09T01:30:00Z", 1800, { project: "api", team: "backend", user: "u2" }),
      start("3", "2025-06-08T00:00:00Z", { project: "web", team: null, user: null, expected: 1 }),
      start("4", "2025-05-01T00:00:00Z", { project: "old", team: "backend" }),
      end("4", "2025-05-01T00:10:00Z", 600, { project: "old", team: "backend" }),
    ].join("\n"),
  )
  const s = summarize(log, { now, defaultExpectedHours: 8, days: 7 })
  expect(s.period).toEqual({ days: 7, from: "2025-06-03T12:00:00.000Z", to: "2025-06-10T12:00:00.000Z" })
  expect(s.totals).toEqual({ sessions: 3, completed: 2, incomplete: 1, active: 0, total_duration_s: 9000, avg_duration_s: 3000, users: ["u1", "u2"] })
  expect(Object.keys(s.by_project).sort()).toEqual(["api", "web"])
  expect(s.by_project.api).toMatchObject({ sessions: 2, total_duration_s: 5400, avg_duration_s: 2700, users: ["u1", "u2"] })
  expect(s.by_team["(none)"]).toMatchObject({ sessions: 1, incomplete: 1, total_duration_s: 3600, users: [] })
  expect(summarize(log, { now, defaultExpectedHours: 8 }).totals.sessions).toBe(4)
})

test("aggregate sums exports per project and team and unions users; foreign files are refused", () => {
  const mk = (lines: string[], bad = "") => buildExport(summarize(parseUsage(`${[...lines, bad].join("\n")}\n`), { now, defaultExpectedHours: 8 }), { now })
  const a = mk([start("1", "2025-06-10T01:00:00Z", { user: "u1" }), end("1", "2025-06-10T02:00:00Z", 3600, { user: "u1" })], "bad line")
  const b = mk([
    start("2", "2025-06-10T03:00:00Z", { user: "u2", project: "web", team: "front" }),
    end("2", "2025-06-10T03:30:00Z", 1800, { user: "u2", project: "web", team: "front" }),
    start("3", "2025-06-10T04:00:00Z", { user: "u2" }),
    end("3", "2025-06-10T04:30:00Z", 1800, { user: "u2" }),
  ])
  // an envelope (stdout of `stats export --json`) is accepted like the bare document
  const viaEnvelope = parseExport(JSON.stringify({ apiVersion: "scc.cli/v1", kind: "UsageExport", data: b }), "b.json")
  const agg = aggregate([parseExport(JSON.stringify(a), "a.json"), viaEnvelope])
  expect(agg.files).toBe(2)
  expect(agg.bad_lines).toBe(1)
  expect(agg.totals).toEqual({ sessions: 3, completed: 3, incomplete: 0, active: 0, total_duration_s: 7200, avg_duration_s: 2400, users: ["u1", "u2"] })
  expect(agg.by_project.app).toMatchObject({ sessions: 2, total_duration_s: 5400, users: ["u1", "u2"] })
  expect(agg.by_team.front).toMatchObject({ sessions: 1, total_duration_s: 1800, users: ["u2"] })
  expect(() => parseExport('{"hello":1}', "x.json")).toThrow(UsageError)
  expect(() => parseExport("nope", "x.json")).toThrow(/x.json is not a usage export/)
})
