import { afterAll, beforeAll, expect, test } from "bun:test"
import { CcaConfig } from "../../src/config/schema"
import * as v from "valibot"
import { createLogger } from "../../src/log"
import { classify } from "../../src/orchestrator/classify"
import type { Worker } from "../../src/orchestrator/executor"
import { ACTIONS, actionIndex, encodeState, type PoolView, type TaskView } from "../../src/orchestrator/features"
import type { RoutingContext } from "../../src/orchestrator/router"
import { complexity, LEXICAL_SPACE, lexicalVector } from "../../src/orchestrator/task-text"
import { inputOf } from "../../src/rl/samples"
import { RlService } from "../../src/rl/service"
import { LEARNED } from "../../src/rl/types"
import type { Sql } from "../../src/store/sql"
import type { Task } from "../../src/store/task-types"
import { pgliteMemory } from "../support/postgres"

// The routes follow the experiences: the same recorded decisions with
// opposite outcomes (frontend succeeds and backend fails, or the reverse) on
// a task family no keyword points to, trained into each algorithm, give
// opposite routes for a new task of that family.

const log = createLogger("rl-test", { file: "/dev/null" })
const config = v.parse(CcaConfig, { learning: { epsilon: 0, train_every: 0 } }).learning
const TEXT = "Tidy up the quarterly numbers before the Friday review"
const worker = (role: string): Worker => ({ id: `${role}-1`, role, executor: "local", live: true, idle: true })
const idle = [worker("frontend"), worker("backend")]

function state(text: string) {
  const d = classify({ description: text })
  const view: TaskView = { role: d.role, scores: d.scores, coordinate: false, promptChars: text.length, depth: 0, priority: 0, attempt: 0, maxAttempts: 3, text: lexicalVector(text), textSpace: LEXICAL_SPACE, complexity: complexity(text) }
  const pool: PoolView = { idle: { frontend: 1, backend: 1 }, busy: {}, agents: 2, maxAgents: 4, canSpawn: false, pending: 1, maxDepth: 3, spawnable: {}, roles: {} }
  return encodeState(view, pool)
}

const eligible = Array.from({ length: ACTIONS }, (_, a) => a === actionIndex("frontend") || a === actionIndex("backend"))

/** Record `n` decisions alternating between the two roles, `good` completing (1.3) and the other failing (-0.5). */
async function record(db: Sql, good: string, n = 60): Promise<void> {
  for (let i = 0; i < n; i++) {
    const role = i % 2 ? "frontend" : "backend"
    const s = state(`${TEXT} ${["now", "today", "please", "again"][i % 4]}`)
    await db.query(
      `INSERT INTO rl_experiences (algorithm, state, action, action_index, log_prob, reward, done, outcome, metadata, rewarded_at)
       VALUES ('linucb', $1::jsonb, $2, $3, $4, $5, true, $6::jsonb, $7::jsonb, now())`,
      [s, role, actionIndex(role), Math.log(0.5), role === good ? 1.3 : -0.5, { status: role === good ? "completed" : "failed" }, { decidedBy: "policy", propensity: 0.5, eligible, heuristic: actionIndex(role) }],
    )
  }
}

function ctx(id: string): RoutingContext {
  const task = { id, role: null, metadata: { routing: { role: null, reason: "none" } } } as unknown as Task
  return { task, candidates: idle, idle, canSpawn: false, spawnRole: "backend", tried: new Set(), state: state(TEXT), soft: true, spawnable: () => false, awaitStarting: () => false }
}

const dbs: Sql[] = []
const services: Record<string, RlService> = {}

beforeAll(async () => {
  for (const good of ["frontend", "backend"]) {
    const db = await pgliteMemory()
    dbs.push(db)
    await record(db, good)
    const rl = await RlService.open({ db, config, log })
    await rl.train({ algorithm: "all" })
    services[good] = rl
  }
}, 120_000)

afterAll(async () => {
  for (const db of dbs) await db.close()
})

for (const algorithm of LEARNED) {
  test(`${algorithm}: opposite outcomes give opposite routes`, async () => {
    const preferred: Record<string, string> = {}
    for (const good of ["frontend", "backend"]) {
      const rl = services[good]!
      await rl.setAlgorithm(algorithm)
      const e = rl.policy(algorithm).evaluate(inputOf(state(TEXT), LEXICAL_SPACE), eligible, -1)
      preferred[good] = e.probs[actionIndex("frontend")]! > e.probs[actionIndex("backend")]! ? "frontend" : "backend"
      if (algorithm !== "ppo") {
        // deterministic given ε = 0: the route itself
        const r = rl.router.route(ctx(`00000000-0000-0000-0000-00000000000${good === "frontend" ? 1 : 2}`))
        expect(r).toMatchObject({ kind: "assign", agent: { role: good }, info: { decidedBy: "policy", reason: "policy" } })
      }
    }
    expect(preferred).toEqual({ frontend: "frontend", backend: "backend" })
  })
}

test("the routing decision records its propensity, the eligible roles and the heuristic's choice", () => {
  const r = services.backend!.router.route(ctx("00000000-0000-0000-0000-000000000009"))
  expect(r.kind).toBe("assign")
  if (r.kind !== "assign") return
  expect(r.info).toMatchObject({ eligible, heuristic: expect.any(Number), explored: false })
  expect(r.logProb).toBeCloseTo(Math.log(r.info!.propensity as number), 3)
})
