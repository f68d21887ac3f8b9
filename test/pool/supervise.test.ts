import { afterEach, expect, test, setDefaultTimeout } from "bun:test"
import { ManualClock } from "../../src/acp/clock"
import { AgentCrashedError } from "../../src/agent/errors"
import { RoleDegradedError } from "../../src/pool/errors"
import { within } from "../support/claude"
import { nextEvent, poolSetup, processAlive, type PoolSetup } from "./support"

setDefaultTimeout(120_000)

// Supervision with the real claude: a killed process is noticed at once, its
// task reported, and the agent restarted after a backoff; repeated crashes
// open the role's circuit. Backoff and cooldown run on a ManualClock, so the
// test moves time instead of waiting for it.

let setup: PoolSetup | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

const TASK = "0198f0c2-0000-7000-8000-0000000000aa"

test("a killed agent is detected within a second, its task reported, restarted with backoff; repeated crashes degrade the role until the circuit closes", async () => {
  const clock = new ManualClock(1_000_000)
  setup = await poolSetup([{ match: { lastUserText: "long job" }, reply: { content: "never", delayMs: 60_000 } }, { match: { lastUserText: "ping" }, reply: { content: "pong" } }], {
    agents: { restart_backoff_s: 1, restart_backoff_max_s: 30, circuit_crashes: 3, circuit_window_s: 60, circuit_cooldown_s: 60 },
    options: { clock, heartbeatMs: 0 },
  })
  const { pool, model } = setup
  const agent = await pool.spawn({ role: "backend", id: "be-1" })
  const events: string[] = []
  pool.on("*", (e) => void events.push(e.type))

  // 1. Killed mid-task: crashed within a second, with the task; run() rejects with agent_crashed.
  const run = pool.run("be-1", { taskId: TASK, prompt: "long job" }).then(() => undefined, (e: unknown) => e)
  await model.waitFor((r) => r.conversation?.lastUserText === "long job")
  const crashed = nextEvent(pool, "crashed")
  const t0 = performance.now()
  process.kill(agent.pid!, "SIGKILL")
  const c1 = await crashed
  expect(performance.now() - t0).toBeLessThan(1_000)
  expect(c1).toMatchObject({ agentId: "be-1", role: "backend", taskId: TASK, signal: "SIGKILL", restartInMs: 1_000 })
  const failure = await within(run, 5_000, "run() to reject")
  expect(failure).toBeInstanceOf(AgentCrashedError)
  expect((failure as Error).message).toContain("SIGKILL")
  expect(pool.get("be-1")).toMatchObject({ status: "restarting", pid: null, taskId: null, restartAt: new Date(clock.now() + 1_000).toISOString() })
  expect(pool.idle()).toEqual([])
  await pool.flush()
  expect((await setup.state.getAgent("be-1"))?.status).toBe("restarting")

  // 2. Nothing happens before the backoff passes; then the same agent id comes back with a new process.
  expect(clock.pending()).toEqual([1_000])
  clock.advance(999)
  expect(pool.get("be-1")!.status).toBe("restarting")
  const ready = nextEvent(pool, "ready", (e) => e.restarted)
  clock.advance(1)
  await ready
  const second = pool.get("be-1")!
  expect(second).toMatchObject({ status: "idle", restarts: 1, restartAt: null })
  expect(second.pid).not.toBe(agent.pid)
  expect(processAlive(second.pid!)).toBe(true)
  expect((await pool.run("be-1", { prompt: "ping" })).text).toBe("pong")
  expect(events).toEqual(expect.arrayContaining(["busy", "crashed", "restarted", "ready", "idle"]))

  // 3. A second crash soon after: the delay doubles.
  const c2 = nextEvent(pool, "crashed")
  process.kill(second.pid!, "SIGKILL")
  expect((await c2).restartInMs).toBe(2_000)
  expect((await c2).taskId).toBeNull()
  expect(clock.pending()).toEqual([2_000])
  const ready2 = nextEvent(pool, "ready", (e) => e.restarted)
  clock.advance(2_000)
  await ready2

  // 4. The third crash within the window opens the circuit: the role is degraded, its restart waits for the cooldown.
  const degraded = nextEvent(pool, "degraded")
  const c3 = nextEvent(pool, "crashed")
  process.kill(pool.get("be-1")!.pid!, "SIGKILL")
  expect((await c3).restartInMs).toBe(60_000)
  expect(await degraded).toMatchObject({ role: "backend", retryAt: new Date(clock.now() + 60_000).toISOString() })
  expect(pool.roles()).toEqual([expect.objectContaining({ role: "backend", state: "degraded", circuit: "open", recentCrashes: 3 })])
  expect(pool.canSpawn("backend")).toMatchObject({ ok: false, code: "role_degraded" })
  const refused = await pool.spawn({ role: "backend" }).then(() => undefined, (e: unknown) => e)
  expect(refused).toBeInstanceOf(RoleDegradedError)
  expect((refused as InstanceType<typeof RoleDegradedError>).status).toBe(503)
  expect(pool.canSpawn("frontend")).toEqual({ ok: true }) // other roles are not held back

  // 5. After the cooldown the restart goes ahead (half open); the agent becoming ready closes the circuit.
  const recovered = nextEvent(pool, "recovered")
  clock.advance(59_999)
  expect(pool.get("be-1")!.status).toBe("restarting")
  clock.advance(1)
  expect(await recovered).toEqual({ type: "recovered", role: "backend" })
  expect(pool.get("be-1")).toMatchObject({ status: "idle", restarts: 3 })
  expect(pool.roles()).toEqual([expect.objectContaining({ role: "backend", state: "ok", circuit: "closed", recentCrashes: 0 })])
  expect(pool.canSpawn("backend")).toEqual({ ok: true })
  const log = pool.logs("be-1").items.map((e) => e.text)
  expect(log.some((t) => t.includes(`crashed while running task ${TASK}`))).toBe(true)
  expect(log.some((t) => t.startsWith("restarted (3)"))).toBe(true)
})

test("a stopped agent is not restarted, and stop during a task rejects the run with agent_stopped", async () => {
  setup = await poolSetup([{ match: { lastUserText: "long job" }, reply: { content: "never", delayMs: 60_000 } }])
  const { pool, model } = setup
  const a = await pool.spawn({ role: "qa" })
  const run = pool.run(a.id, { taskId: TASK, prompt: "long job" }).then(() => undefined, (e: unknown) => e)
  await model.waitFor((r) => r.conversation?.lastUserText === "long job")
  let crashes = 0
  pool.on("crashed", () => void crashes++)
  const stopped = nextEvent(pool, "stopped")
  await pool.stop(a.id)
  await stopped
  const e = await run
  expect((e as { code: string }).code).toBe("agent_stopped")
  expect(crashes).toBe(0)
  expect(processAlive(a.pid!)).toBe(false)
  expect(pool.list()).toEqual([])
  expect(pool.roles()).toEqual([])
})
