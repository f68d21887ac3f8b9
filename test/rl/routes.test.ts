import { afterAll, beforeAll, expect, test } from "bun:test"
import { join } from "node:path"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { testDaemon, type TestDaemon } from "../daemon/harness"

// /api/v1/rl on a real daemon (PGlite, ACP): bad input is a 400 naming the
// field and its range; decisions made by the learned router on remote agents
// are learned from; what a person changed (algorithm, parameters) and the
// trained models survive a restart of the daemon on the same data.

let dir: TmpDir
let t: TestDaemon
type ErrorBody = { error: { code: string; message: string; hint?: string; details?: { field?: string; min?: number; max?: number; allowed?: string[] } } }

const sections = () => ({ postgres: { data_dir: join(dir.path, "pg") }, learning: { train_every: 0, warmup: 4 } })

beforeAll(async () => {
  dir = await tmpdir({ prefix: "rl-routes-" })
  t = await testDaemon(sections())
}, 60_000)

afterAll(async () => {
  await t?.[Symbol.asyncDispose]()
  await dir?.[Symbol.asyncDispose]()
})

test("an unknown algorithm or an out-of-range parameter is a 400 naming the field and what is allowed", async () => {
  const bad = await t.json("POST", "/api/v1/rl/algorithm", { algorithm: "sarsa" })
  expect(bad.status).toBe(400)
  expect((bad.body as ErrorBody).error).toMatchObject({ code: "validation", message: 'algorithm: must be one of heuristic, linucb, q_learning, dqn, ppo, not "sarsa"', details: { field: "algorithm" } })
  const eps = await t.json("POST", "/api/v1/rl/params", { epsilon: 0.9 })
  expect(eps.status).toBe(400)
  expect((eps.body as ErrorBody).error).toMatchObject({ message: "epsilon: must be a number from 0 to 0.5, not 0.9", details: { field: "epsilon", min: 0, max: 0.5 } })
  const unknown = await t.json("POST", "/api/v1/rl/params", { gamma: 0.9 })
  expect((unknown.body as ErrorBody).error).toMatchObject({ message: "gamma: no such parameter", details: { field: "gamma" } })
  expect((await t.json("POST", "/api/v1/rl/train", { algorithm: "sarsa" })).status).toBe(400)
  expect((await t.json("POST", "/api/v1/rl/algorithm", {})).status).toBe(400) // body.algorithm missing
  // nothing was changed by the refusals
  expect((await t.json("GET", "/api/v1/rl/params")).body).toMatchObject({ algorithm: "linucb", params: { epsilon: 0.03 }, ranges: { epsilon: { min: 0, max: 0.5 } } })
})

test("decisions on remote agents are learned from; status shows them next to the heuristic's", async () => {
  // two agents that could both take a task with no keyword; frontend's attempts succeed, backend's fail
  for (const role of ["frontend", "backend"]) {
    const a = await t.agent(`${role}-r`, role, {
      taskAssign: (p) => {
        const ok = role === "frontend"
        setTimeout(() => void a.result({ taskId: p.taskId, status: ok ? "completed" : "failed", output: "done", error: ok ? undefined : "no", durationMs: 10 }).catch(() => {}), 0)
        return { accepted: true }
      },
    })
  }
  const o = t.daemon.ctx.orchestrator
  const roles: string[] = []
  for (let i = 0; i < 24; i++) {
    const { body } = await t.json("POST", "/api/v1/tasks", { description: `Tidy up the quarterly numbers, batch ${i}` })
    const done = await o.waitFor(body.id, 10_000)
    roles.push(done!.agentId!.replace("-r", ""))
  }
  await o.records.flush()
  const late = roles.slice(-10).filter((r) => r === "frontend").length
  expect(late).toBeGreaterThanOrEqual(8)
  const s = (await t.json("GET", "/api/v1/rl/status")).body
  expect(s).toMatchObject({ algorithm: "linucb", experiences: { rewarded: 24 }, learnedSinceStart: 24, recent: { window: 100 } })
  expect(s.recent.policy.n + s.recent.heuristic.n).toBe(24)
  expect(s.recent.policy.mean).toBeGreaterThan(s.recent.heuristic.mean)
})

test("train saves versioned models; algorithm, parameters and models are back after a restart", async () => {
  const trained = (await t.json("POST", "/api/v1/rl/train", { algorithm: "all" })).body
  expect(trained.trained.map((x: { algorithm: string; version: number }) => [x.algorithm, x.version])).toEqual([["linucb", 1], ["q_learning", 1], ["dqn", 1], ["ppo", 1]])
  expect(trained.evaluation.policies.linucb).toMatchObject({ n: 12 })
  expect((await t.json("POST", "/api/v1/rl/algorithm", { algorithm: "q_learning" })).body).toEqual({ algorithm: "q_learning", previous: "linucb" })
  expect((await t.json("POST", "/api/v1/rl/params", { epsilon: 0.1, discount: 0.9 })).body).toMatchObject({ params: { epsilon: 0.1, discount: 0.9 }, changed: ["epsilon", "discount"] })
  await t[Symbol.asyncDispose]()
  t = await testDaemon(sections())
  await t.daemon.ctx.rl.ready
  const s = (await t.json("GET", "/api/v1/rl/status")).body
  expect(s).toMatchObject({ algorithm: "q_learning", params: { epsilon: 0.1, discount: 0.9 }, model: { version: 1 }, experiences: { rewarded: 24 } })
  expect(s.models.linucb).toMatchObject({ version: 1, updates: 24 })
  expect(s.evaluation.policies.heuristic.n).toBe(12)
  expect((await t.json("GET", "/api/v1/rl/algorithm")).body).toEqual({ algorithm: "q_learning" })
}, 60_000)
