import { afterAll, beforeAll, expect, test } from "bun:test"
import type { TaskAssignParams } from "../../src/acp/protocol"
import { MEMORY_OPEN } from "../../src/memory/loop"
import { FEATURES, TEXT_OFFSET } from "../../src/orchestrator/features"
import { MemoryGate } from "../../src/rl/memory-gate"
import { DEFAULT_PARAMS } from "../../src/rl/params"
import { Rng } from "../../src/rl/rng"
import { testDaemon, type TestDaemon } from "../daemon/harness"

// The composite action's memory half (src/rl/memory-gate.ts): whether a
// task's prompt gets the memory block is learned from the route's reward,
// recorded with its probability, and honoured by the memory stage.

const textState = (dim: number) => {
  const x = new Float32Array(FEATURES)
  x[TEXT_OFFSET + dim] = 1
  return x
}

test("the gate follows the outcomes: memory left out where it hurt, kept where it helped", () => {
  const p = { ...DEFAULT_PARAMS, epsilon: 0 }
  const gate = new MemoryGate(p)
  const hurts = textState(0)
  const helps = textState(5)
  const rng = new Rng(3)
  // untrained: memory goes in (what cca does without learning)
  expect(gate.choose(hurts, 2, rng)).toMatchObject({ inject: true, propensity: 1, reason: "untrained", decidedBy: "default" })
  for (let i = 0; i < 30; i++) {
    gate.observe(hurts, 2, true, -0.5)
    gate.observe(hurts, 2, false, 1.2)
    gate.observe(helps, 2, true, 1.2)
    gate.observe(helps, 2, false, -0.5)
  }
  expect(gate.choose(hurts, 2, rng)).toMatchObject({ inject: false, decidedBy: "policy" })
  expect(gate.choose(helps, 2, rng)).toMatchObject({ inject: true, decidedBy: "policy" })
  // exploration stays within ε: with ε 0.2 the choice against the gate comes about a tenth of the time
  gate.setParams({ ...p, epsilon: 0.2 })
  let against = 0
  for (let i = 0; i < 2000; i++) {
    const c = gate.choose(hurts, 2, rng)
    if (c.inject) {
      against++
      expect(c).toMatchObject({ propensity: 0.1, explored: true })
    } else expect(c.propensity).toBeCloseTo(0.9, 9)
  }
  expect(against / 2000).toBeGreaterThan(0.07)
  expect(against / 2000).toBeLessThan(0.13)
})

let t: TestDaemon
beforeAll(async () => {
  t = await testDaemon({ embeddings: { provider: "hash" }, memory: { enabled: true, min_similarity: 0.1, distiller: "extractive" }, learning: { epsilon: 0, train_every: 0 } })
}, 60_000)
afterAll(async () => {
  await t?.[Symbol.asyncDispose]()
})

test("in a daemon: an agent that fails whenever memory is in its prompt teaches the router to leave it out; the decision and its probability are recorded", async () => {
  const prompts: string[] = []
  const replies: Promise<unknown>[] = []
  // The agent fails a task when the memory block is in its prompt, and completes it otherwise.
  const agent = await t.agent("mem-1", "backend", {
    taskAssign: (p: TaskAssignParams) => {
      prompts.push(p.prompt)
      const failed = p.prompt.includes(MEMORY_OPEN)
      setImmediate(() => replies.push(agent.result({ taskId: p.taskId, status: failed ? "failed" : "completed", output: failed ? "the notes sent me the wrong way" : "done" })))
      return { accepted: true }
    },
  })
  await t.daemon.ctx.memory.store({ kind: "solution", title: "Reconcile the ledger", description: "nightly ledger reconciliation", content: "Reconcile the ledger totals against the bank export first." })
  const o = t.daemon.ctx.orchestrator
  const ids: string[] = []
  for (let i = 0; i < 24; i++) {
    const { body } = await t.json("POST", "/api/v1/tasks", { description: `Reconcile the nightly ledger totals for branch ${i % 4}`, maxAttempts: 1 })
    ids.push(body.id)
    expect(await o.waitFor(body.id, 20_000)).toBeTruthy()
    await o.flushEndHooks()
  }
  const rows = await t.daemon.ctx.store.sql.query<{ task_id: string; metadata: Record<string, any>; reward: number }>("SELECT task_id, metadata, reward FROM rl_experiences WHERE task_id = ANY($1::uuid[]) ORDER BY id", [ids])
  expect(rows).toHaveLength(24)
  // every decision says whether memory went in, with its probability and the composite one
  for (const r of rows) expect(r.metadata.memory).toMatchObject({ inject: expect.any(Boolean), propensity: 1 })
  for (const r of rows) expect(r.metadata.compositePropensity).toBe(r.metadata.propensity * r.metadata.memory.propensity)
  // the first ones: memory in (untrained), the prompt has the block, the task failed
  expect(rows.slice(0, 5).map((r) => r.metadata.memory.inject)).toEqual([true, true, true, true, true])
  expect(prompts.slice(0, 5).every((p) => p.includes(MEMORY_OPEN))).toBe(true)
  expect(rows.slice(0, 5).every((r) => r.reward < 0)).toBe(true)
  // the last ones: the gate left memory out, the stage honoured it, the tasks completed
  const last = rows.slice(-8)
  expect(last.map((r) => r.metadata.memory.inject)).toEqual(new Array(8).fill(false))
  expect(prompts.slice(-8).some((p) => p.includes(MEMORY_OPEN))).toBe(false)
  expect(last.every((r) => r.reward > 0)).toBe(true)
  const stored = await t.daemon.ctx.store.tasks.get(ids.at(-1)!)
  expect(stored!.metadata.prompt).toMatchObject({ memory: { skipped: "routing" } })
  const status = (await t.json("GET", "/api/v1/rl/status")).body
  expect(status.memoryGate).toMatchObject({ active: true, updates: 24 })
  await Promise.all(replies)
  await agent.close()
}, 120_000)
