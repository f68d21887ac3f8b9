import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { LABEL } from "../../src/sandbox/plan"
import { cli } from "../support/cli"
import { startPodman, TEST_IMAGE, type Podman } from "../support/podman"
import { tmpdir, type TmpDir } from "../support/tmpdir"

// A session with no recorded end is active while its container exists and
// incomplete once the container is gone: checked on a real engine (Podman's
// Docker API) by the container's scc.session label.

let pm: Podman
let tmp: TmpDir

beforeAll(async () => {
  pm = await startPodman()
  await pm.importImage(TEST_IMAGE)
  tmp = await tmpdir()
}, 120_000)

afterAll(async () => {
  await pm?.[Symbol.asyncDispose]()
  await tmp?.[Symbol.asyncDispose]()
})

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString()
const start = (session: string, ts: string) => JSON.stringify({ v: 1, type: "session_start", ts, session, user: "u1", project: "app", team: "core", branch: null, expected_hours: 8 })

async function sessionContainer(session: string): Promise<string> {
  const c = await pm.docker.createContainer({ Image: TEST_IMAGE, Cmd: ["sleep", "600"], Labels: { [LABEL.managed]: "true", [LABEL.session]: session, [LABEL.workspace]: "/work/app" } })
  return c.id
}

test("an unended session is active while its container exists, incomplete once it is removed; no engine leaves it active with a warning", { timeout: 60_000 }, async () => {
  const cache = join(tmp.path, "cache")
  mkdirSync(join(cache, "scc"), { recursive: true })
  // Both started 30 minutes ago and expect 8 hours: by time alone, both are active.
  writeFileSync(join(cache, "scc", "usage.jsonl"), `${[start("kept", minutesAgo(30)), start("removed", minutesAgo(30))].join("\n")}\n`)
  const kept = await sessionContainer("kept")
  const removed = await sessionContainer("removed")
  const env = { XDG_CACHE_HOME: cache, DOCKER_HOST: pm.dockerHost }

  const both = (await cli(["stats", "--json"], { env })).json()
  expect(both.data.totals).toMatchObject({ sessions: 2, active: 2, incomplete: 0 })
  expect(both.status.warnings).toEqual([])

  await pm.docker.getContainer(removed).remove({ force: true })
  const after = await cli(["stats", "--json"], { env })
  expect(after.code).toBe(0)
  const t = after.json().data.totals
  expect(t).toMatchObject({ sessions: 2, active: 1, incomplete: 1 })
  // The gone one counts at most its elapsed time (about 30 min), not its 8 expected hours.
  expect(t.total_duration_s).toBeGreaterThan(2 * 29 * 60)
  expect(t.total_duration_s).toBeLessThan(2 * 40 * 60)
  const exported = (await cli(["stats", "export"], { env })).json()
  expect(exported.summary?.totals ?? exported.totals).toMatchObject({ active: 1, incomplete: 1 })

  const noEngine = await cli(["stats", "--json"], { env: { ...env, DOCKER_HOST: `unix://${join(tmp.path, "nothing.sock")}` } })
  expect(noEngine.code).toBe(0)
  expect(noEngine.json().data.totals).toMatchObject({ active: 2, incomplete: 0 })
  expect(noEngine.json().status.warnings[0]).toContain("2 active session(s) counted as active: their containers could not be checked")
  await pm.docker.getContainer(kept).remove({ force: true })
})
