// The learned router's retrain inside the daemon: `n` recorded decisions in
// PGlite (rl_experiences rows as the orchestrator writes them), then
// RlService.train for the active algorithm and for all four, with a 1 ms
// interval timer watching the event loop. The longest pause is what every
// other request of the daemon waits at worst while a retrain runs; the floor
// is the same timer's longest pause over an idle window of the same length.
import * as v from "valibot"
import { CcaConfig } from "../../src/config/schema"
import { createLogger } from "../../src/log"
import { classify } from "../../src/orchestrator/classify"
import { ACTIONS, actionIndex, encodeState, type PoolView, type TaskView } from "../../src/orchestrator/features"
import { complexity, LEXICAL_SPACE, lexicalVector } from "../../src/orchestrator/task-text"
import { RlService } from "../../src/rl/service"
import { pgliteMemory } from "../../test/support/postgres"

export type RetrainFigures = { label: string; ms: number; worstPauseMs: number; floorMs: number }

/** Longest gap between ticks of a 1 ms timer while `work` runs. */
async function watch(work: () => Promise<unknown>): Promise<{ ms: number; worst: number }> {
  let last = performance.now()
  let worst = 0
  const t = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last)
    last = now
  }, 1)
  const t0 = performance.now()
  await work()
  clearInterval(t)
  return { ms: performance.now() - t0, worst }
}

export async function retrainFigures(n: number): Promise<RetrainFigures[]> {
  const log = createLogger("bench-rl", { file: "/dev/null" })
  const config = v.parse(CcaConfig, { learning: { epsilon: 0, train_every: 0 } }).learning
  const eligible = Array.from({ length: ACTIONS }, (_, a) => a === actionIndex("frontend") || a === actionIndex("backend"))
  const pool: PoolView = { idle: { frontend: 1, backend: 1 }, busy: {}, agents: 2, maxAgents: 4, canSpawn: false, pending: 1, maxDepth: 3, spawnable: {}, roles: {} }
  const db = await pgliteMemory()
  try {
    for (let i = 0; i < n; i++) {
      const text = `task ${i % 37}: fix the ${["button", "query", "login", "cache"][i % 4]} (${i})`
      const d = classify({ description: text })
      const view: TaskView = { role: d.role, scores: d.scores, coordinate: false, promptChars: text.length, depth: 0, priority: 0, attempt: 0, maxAttempts: 3, text: lexicalVector(text), textSpace: LEXICAL_SPACE, complexity: complexity(text) }
      const role = i % 2 ? "frontend" : "backend"
      await db.query(
        `INSERT INTO rl_experiences (algorithm, state, action, action_index, log_prob, reward, done, outcome, metadata, rewarded_at)
         VALUES ('linucb', $1::jsonb, $2, $3, $4, $5, true, $6::jsonb, $7::jsonb, now())`,
        [encodeState(view, pool), role, actionIndex(role), Math.log(0.5), (i * 7919) % 13 / 13, { status: "completed" }, { decidedBy: "policy", propensity: 0.5, eligible, heuristic: actionIndex(role) }],
      )
    }
    const rl = await RlService.open({ db, config, log })
    await rl.ready
    const out: RetrainFigures[] = []
    for (const [label, algorithm] of [["retrain the active algorithm (linucb) + OPE", undefined], ["retrain all four + OPE", "all"]] as const) {
      const busy = await watch(() => rl.train(algorithm ? { algorithm } : {}))
      const idle = await watch(() => new Promise((r) => setTimeout(r, busy.ms)))
      out.push({ label, ms: busy.ms, worstPauseMs: busy.worst, floorMs: idle.worst })
    }
    return out
  } finally {
    await db.close()
  }
}
