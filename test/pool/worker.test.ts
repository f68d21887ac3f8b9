import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as v from "valibot"
import { CcaConfig } from "../../src/config/schema"
import { createLogger } from "../../src/log"
import { poolOptions } from "../../src/pool/options"
import { startWorker, type RunningWorker } from "../../src/pool/worker"
import { CLAUDE, claudeEnv, SONNET, sonnetCost, within } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import { taskEvent, testDaemon, type TestDaemon } from "../daemon/harness"

setDefaultTimeout(120_000)

// A worker in this process (the same code `cca worker` runs) serving a real
// daemon over ACP. Its agents have a role only the worker knows (a custom role
// file), so the daemon cannot start local agents for these tasks.

let model: ModelServer
let t: TestDaemon
let worker: RunningWorker

const USAGE = { input: 2100, output: 64, cacheCreation: 40, cacheRead: 900 }

beforeAll(async () => {
  model = await startModelServer([
    { match: { system: "# Role: reviewer", lastUserText: "review the patch" }, reply: { content: "patch reviewed: looks fine", usage: USAGE } },
    { match: { lastUserText: "review slowly" }, reply: { content: "slow review done", delayMs: 60_000 } },
  ])
  t = await testDaemon({ agents: { claude_path: CLAUDE, model: SONNET } }, { pool: { env: claudeEnv(model), mcpCommand: null } })
  const roles = join(t.tmp.path, "worker-roles")
  mkdirSync(roles, { recursive: true })
  writeFileSync(join(roles, "reviewer.md"), "# Role: reviewer\nYou review patches.")
  const config = v.parse(CcaConfig, { agents: { claude_path: CLAUDE, model: SONNET, workspace: t.tmp.path, restart_backoff_s: 0.05 } })
  worker = await startWorker({
    acpUrl: t.daemon.acp,
    apiKey: t.key,
    daemonUrl: t.daemon.http,
    role: "reviewer",
    count: 1,
    idPrefix: "w1",
    pool: poolOptions(config, { rolesDir: roles, stateRoot: join(t.tmp.path, "worker-agents"), env: claudeEnv(model), mcpCommand: null, log: createLogger("worker-test", { file: join(t.tmp.path, "worker.log") }) }),
    log: createLogger("worker-test", { file: join(t.tmp.path, "worker.log") }),
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
  })
}, 120_000)

afterAll(async () => {
  await worker?.stop()
  await t?.[Symbol.asyncDispose]()
  await model?.close()
})

test("the worker's agent registers over ACP and takes a task; its result, tokens and cost reach the daemon", async () => {
  expect(worker.agents).toEqual(["w1-1"])
  const listed = await t.json("GET", "/api/v1/agents/w1-1")
  expect(listed.body).toMatchObject({ id: "w1-1", role: "reviewer", kind: "remote", status: "idle" })

  const created = await t.json("POST", "/api/v1/tasks", { description: "review the patch", role: "reviewer" })
  expect(created.status).toBe(202)
  await within(taskEvent(t, created.body.id, "completed", 60_000), 60_000, "the task to complete")
  const task = (await t.json("GET", `/api/v1/tasks/${created.body.id}`)).body
  expect(task).toMatchObject({ status: "completed", agentId: "w1-1", result: "patch reviewed: looks fine" })
  expect(task.usage).toMatchObject({ inputTokens: USAGE.input, outputTokens: USAGE.output })
  expect(task.costUsd).toBeCloseTo(sonnetCost(USAGE), 9)
  expect(task.durationMs).toBeGreaterThan(0)
})

test("cancel interrupts the worker's run; a crash mid-task disconnects the agent, the daemon requeues, and the restarted agent finishes it", async () => {
  const slow = await t.json("POST", "/api/v1/tasks", { description: "review slowly", role: "reviewer" })
  await model.waitFor((r) => r.conversation?.lastUserText === "review slowly")
  expect(worker.pool.get("w1-1")).toMatchObject({ status: "busy", taskId: slow.body.id })
  const idle = new Promise<void>((resolve) => worker.pool.on("idle", () => resolve()))
  await t.json("POST", `/api/v1/tasks/${slow.body.id}/cancel`)
  await within(idle, 15_000, "the worker's agent to be idle again")
  expect((await t.json("GET", `/api/v1/tasks/${slow.body.id}`)).body.status).toBe("cancelled")

  const seen = model.requests.length
  model.prepend({ match: { lastUserText: "crash during this" }, reply: { content: "never", delayMs: 60_000 } })
  const crashTask = await t.json("POST", "/api/v1/tasks", { description: "crash during this", role: "reviewer" })
  await model.waitFor((r) => r.conversation?.lastUserText === "crash during this" && r.seq > seen)
  const requeued = taskEvent(t, crashTask.body.id, "requeued", 15_000)
  process.kill(worker.pool.get("w1-1")!.pid!, "SIGKILL")
  expect((await requeued).data).toMatchObject({ reason: expect.objectContaining({ code: expect.stringMatching(/agent_(disconnected|restarted)/) }) })
  model.prepend({ match: { lastUserText: "crash during this" }, reply: { content: "finished on the second try" } }) // the retry is answered at once
  await within(taskEvent(t, crashTask.body.id, "completed", 60_000), 60_000, "the requeued task to complete")
  const done = (await t.json("GET", `/api/v1/tasks/${crashTask.body.id}`)).body
  expect(done).toMatchObject({ status: "completed", agentId: "w1-1", result: "finished on the second try", attempts: 2 })
  expect(worker.pool.get("w1-1")!.restarts).toBe(1)
})
