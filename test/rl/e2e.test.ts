import { afterAll, beforeAll, expect, test } from "bun:test"
import { join } from "node:path"
import { classify } from "../../src/orchestrator/classify"
import { CLAUDE, claudeEnv, SONNET } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { testDaemon, type TestDaemon } from "../daemon/harness"

// End to end: a daemon with real `claude` agents of two roles, frontend and
// backend, both able to take a family of tasks that has no keyword (so the
// heuristic sends them to whichever agent waited longest). The scripted
// model fails every backend attempt at that family (an API error, so Claude
// Code's turn ends with is_error) and answers frontend's. After at most 40
// tasks the learned router (the default, linucb, with default parameters)
// sends at least 80% of new tasks of the family to frontend, and
// GET /api/v1/rl/status shows it.

let t: TestDaemon
let model: ModelServer
let workspace: TmpDir
const FAMILY = (i: number) => `Summarise the notes from the ${["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"][i % 5]} sync into three lines (${i})`

beforeAll(async () => {
  model = await startModelServer([
    { match: { system: "# Role: backend", lastUserText: /^Summarise the notes/ }, reply: { content: "", error: { status: 400, type: "invalid_request_error", message: "scripted: backend cannot do this" } } },
    { match: { system: "# Role: frontend", lastUserText: /^Summarise the notes/ }, reply: { content: "three lines" } },
  ])
  workspace = await tmpdir({ prefix: "rl-e2e-" })
  t = await testDaemon({ agents: { max_agents: 2 } }, { pool: { claudePath: CLAUDE, model: SONNET, env: claudeEnv(model), mcpCommand: null, workspace: workspace.path, stateRoot: join(workspace.path, "agents") } })
  await Promise.all([t.daemon.ctx.pool.spawn({ role: "frontend" }), t.daemon.ctx.pool.spawn({ role: "backend" })])
}, 90_000)

afterAll(async () => {
  await t?.[Symbol.asyncDispose]()
  await model?.close()
  await workspace?.[Symbol.asyncDispose]()
})

async function run(i: number): Promise<{ role: string; status: string }> {
  const o = t.daemon.ctx.orchestrator
  const { body } = await t.json("POST", "/api/v1/tasks", { description: FAMILY(i), maxAttempts: 1 })
  const done = await o.waitFor(body.id, 60_000)
  if (!done) throw new Error(`task ${i} did not finish`)
  const role = t.daemon.ctx.pool.list().find((a) => a.id === done.agentId)?.role ?? "?"
  return { role, status: done.status }
}

test("after at most 40 tasks of a keyword-free family, at least 80% of new ones go to the role that succeeds", async () => {
  expect(classify({ description: FAMILY(0) }).reason).toBe("none") // no keyword points anywhere
  const learning: { role: string; status: string }[] = []
  for (let i = 0; i < 40; i++) learning.push(await run(i))
  // the scripted model really failed backend's attempts and answered frontend's
  expect(learning.filter((r) => r.role === "backend").every((r) => r.status === "failed")).toBe(true)
  expect(learning.filter((r) => r.role === "frontend").every((r) => r.status === "completed")).toBe(true)
  expect(learning.slice(0, 10).filter((r) => r.role === "backend").length).toBeGreaterThanOrEqual(3) // the heuristic alternated at first
  const after: string[] = []
  for (let i = 40; i < 50; i++) after.push((await run(i)).role)
  expect(after.filter((r) => r === "frontend").length).toBeGreaterThanOrEqual(8)

  await t.daemon.ctx.orchestrator.records.flush()
  await t.daemon.ctx.rl.settled() // the automatic training after the 50th reward
  const s = (await t.json("GET", "/api/v1/rl/status")).body
  expect(s).toMatchObject({ algorithm: "linucb", learnedSinceStart: 50, experiences: { rewarded: 50 } })
  expect(s.recent.policy.n).toBeGreaterThan(20)
  expect(s.recent.policy.mean).toBeGreaterThan(s.recent.heuristic.mean + 0.5)
  // train_every (50): the model was retrained and saved on its own
  expect(s.model.version).toBeGreaterThanOrEqual(1)
}, 240_000)
