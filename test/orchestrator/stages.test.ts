import { afterAll, beforeAll, expect, test } from "bun:test"
import type { TaskAssignParams } from "../../src/acp/protocol"
import { PromptRejected, type PromptStage, type TaskEndHook } from "../../src/orchestrator/stages"
import type { Task } from "../../src/store/task-types"
import { signal, taskEvent, testDaemon, type TestDaemon } from "../daemon/harness"

// Prompt stages and task end hooks, in a real daemon with real ACP agents:
// what a stage returns is what the agent gets, its note is kept with the
// task, a stage that rejects fails the task with its error, a stage that
// breaks is noted and skipped, and end hooks hear every final task.

const ended: Task[] = []
const endHook: TaskEndHook = { name: "recorder", ended: async (task) => void ended.push(task) }

const tagger: PromptStage = {
  name: "tagger",
  async prepare({ task, prompt, agent }) {
    if (task.description.includes("too big")) throw new PromptRejected("over_budget", "the prompt needs 9000 tokens; the budget is 100", "raise agents.token_budget_per_task", { needed: 9000 })
    return { prompt: `[for ${agent.role}, attempt ${task.attempts}]\n${prompt}`, note: { added: 1 } }
  },
}
const broken: PromptStage = {
  name: "broken",
  async prepare({ task, prompt }) {
    if (task.description.includes("break")) throw new Error("the helper service is down")
    return { prompt: `${prompt}\n-- checked` }
  },
}

let t: TestDaemon
beforeAll(async () => {
  t = await testDaemon({}, { stages: [tagger, broken], endHooks: [endHook] })
}, 60_000)
afterAll(async () => {
  await t[Symbol.asyncDispose]()
})

const create = async (body: Record<string, unknown>) => (await t.json("POST", "/api/v1/tasks", body)).body.id as string

test("the agent gets the prompt the stages made; their notes are on the accepted event and in metadata.prompt", async () => {
  const offered = signal<TaskAssignParams>()
  const a = await t.agent("st-1", "st-role", { taskAssign: (p) => (offered.resolve(p), { accepted: true }) })
  const id = await create({ description: "do it", prompt: "the real prompt", role: "st-role" })
  const accepted = taskEvent(t, id, "accepted")
  expect((await offered.promise).prompt).toBe("[for st-role, attempt 1]\nthe real prompt\n-- checked")
  expect((await accepted).data).toMatchObject({ agentId: "st-1", attempt: 1, prompt: { tagger: { added: 1 } } })
  const completed = taskEvent(t, id, "completed")
  await a.result({ taskId: id, status: "completed", output: "done" })
  await completed
  const stored = await t.daemon.ctx.store.tasks.get(id)
  expect(stored!.metadata.prompt).toEqual({ tagger: { added: 1 } })
  expect(stored!.prompt).toBe("the real prompt") // the task keeps its own prompt
  await t.daemon.ctx.orchestrator.flushEndHooks()
  expect(ended.find((x) => x.id === id)).toMatchObject({ status: "completed", result: "done", metadata: { prompt: { tagger: { added: 1 } } } })
  await a.close()
})

test("a stage that throws is noted with its error and skipped; the task still runs", async () => {
  const offered = signal<TaskAssignParams>()
  const a = await t.agent("st-2", "st-role2", { taskAssign: (p) => (offered.resolve(p), { accepted: true }) })
  const id = await create({ description: "break the helper", role: "st-role2" })
  const accepted = taskEvent(t, id, "accepted")
  expect((await offered.promise).prompt).toBe("[for st-role2, attempt 1]\nbreak the helper")
  expect((await accepted).data.prompt).toEqual({ tagger: { added: 1 }, broken: { error: "the helper service is down" } })
  await a.result({ taskId: id, status: "failed", error: "nope" })
  await t.daemon.ctx.orchestrator.waitFor(id, 10_000)
  await t.daemon.ctx.orchestrator.flushEndHooks()
  expect(ended.find((x) => x.id === id)).toMatchObject({ status: "failed" })
  await a.close()
})

test("a stage that rejects fails the task with its code and hint; the agent is never offered it and takes the next", async () => {
  const offers: string[] = []
  const a = await t.agent("st-3", "st-role3", { taskAssign: (p) => (offers.push(p.taskId), { accepted: true }) })
  const id = await create({ description: "too big to send", role: "st-role3" })
  const failed = await t.daemon.ctx.orchestrator.waitFor(id, 10_000)
  expect(failed).toMatchObject({ status: "failed", attempts: 1, error: { code: "over_budget", message: "the prompt needs 9000 tokens; the budget is 100", hint: "raise agents.token_budget_per_task", details: { needed: 9000 } } })
  expect(offers).toEqual([])
  const next = await create({ description: "small one", role: "st-role3" })
  await taskEvent(t, next, "accepted")
  expect(offers).toEqual([next])
  await t.daemon.ctx.orchestrator.records.flush()
  expect(await t.daemon.ctx.orchestrator.records.repo.forTask(id)).toEqual([]) // not the agent's doing: no routing record
  await a.close()
})
