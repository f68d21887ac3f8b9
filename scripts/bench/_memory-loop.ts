// The loop of `bun run bench memory`: a pipeline test, not a claim about real
// models. Real `claude` agents of a daemon (PGlite, hash embeddings) run 50
// tasks of 5 repeating families against the scripted model server. The
// scripted model solves a task only when its prompt carries its family's
// strategy, which only an earlier task of the family can have written into
// memory (its answer ends with a `Strategy:` line, distilled by the
// extractive distiller). Without the strategy it answers at length (scripted
// 1500 output tokens) without solving; with it, briefly (200). Success is
// the share of answers that solved the task; memory on and off side by side.
import { join } from "node:path"
import { CLAUDE, claudeEnv, SONNET } from "../../test/support/claude"
import { startModelServer } from "../../test/support/model-server"
import type { Conversation } from "../../test/support/model-script"
import { tmpdir } from "../../test/support/tmpdir"
import { testDaemon } from "../../test/daemon/harness"

const FAMILIES = [
  { re: /Rotate the API keys/, task: (i: number) => `Rotate the API keys of service number ${i}`, strategy: "rotate one key at a time and probe the service before the next" },
  { re: /Backfill the missing invoice rows/, task: (i: number) => `Backfill the missing invoice rows for month ${i}`, strategy: "batch by customer id and commit every thousand rows" },
  { re: /Flaky test in the checkout suite/, task: (i: number) => `Flaky test in the checkout suite, case ${i}: make it deterministic`, strategy: "freeze the clock and seed the random generator in the fixture" },
  { re: /Upgrade the logging library/, task: (i: number) => `Upgrade the logging library in package ${i}`, strategy: "pin the transitive formatter to the old major first" },
  { re: /Translate the onboarding emails/, task: (i: number) => `Translate the onboarding emails into language ${i}`, strategy: "keep the placeholders in braces untouched and check plural forms" },
]

export type LoopResult = { tasks: number; solved: number; outputTokens: number; inputTokens: number; completed: number }

async function runOnce(memoryOn: boolean, tasks: number): Promise<LoopResult> {
  const reply = (c: Conversation) => {
    const text = c.lastUserText ?? ""
    const f = FAMILIES.find((x) => x.re.test(text))
    if (!f) return { content: "ok" }
    return text.includes(f.strategy)
      ? { content: "SOLVED using the stored strategy.", usage: { output: 200 } }
      : { content: `UNSOLVED after a long search.\nStrategy: ${f.strategy}`, usage: { output: 1500 } }
  }
  await using model = await startModelServer([{ match: (c) => FAMILIES.some((f) => f.re.test(c.lastUserText ?? "")), reply }])
  await using ws = await tmpdir({ prefix: "memory-loop-" })
  await using t = await testDaemon(
    { agents: { max_agents: 1 }, embeddings: { provider: "hash" }, memory: { enabled: memoryOn, min_similarity: 0.3 } },
    { pool: { claudePath: CLAUDE, model: SONNET, env: claudeEnv(model), mcpCommand: null, workspace: ws.path, stateRoot: join(ws.path, "agents") } },
  )
  await t.daemon.ctx.pool.spawn({ role: "backend" })
  const o = t.daemon.ctx.orchestrator
  const r: LoopResult = { tasks, solved: 0, outputTokens: 0, inputTokens: 0, completed: 0 }
  for (let i = 0; i < tasks; i++) {
    const f = FAMILIES[i % FAMILIES.length]!
    const { body } = await t.json("POST", "/api/v1/tasks", { description: f.task(Math.floor(i / FAMILIES.length) + 1), role: "backend", maxAttempts: 1 })
    const done = await o.waitFor(body.id, 120_000)
    if (!done) throw new Error(`task ${i} did not finish`)
    await o.flushEndHooks()
    if (done.status === "completed") r.completed++
    if ((done.result ?? "").includes("SOLVED") && !(done.result ?? "").includes("UNSOLVED")) r.solved++
    r.outputTokens += done.usage.outputTokens
    r.inputTokens += done.usage.inputTokens
  }
  return r
}

export async function memoryLoop(tasks = 50): Promise<{ on: LoopResult; off: LoopResult }> {
  const off = await runOnce(false, tasks)
  const on = await runOnce(true, tasks)
  return { on, off }
}
