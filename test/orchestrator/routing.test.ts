import { expect, test } from "bun:test"
import { Backlog } from "../../src/orchestrator/backlog"
import { classify, roleScores } from "../../src/orchestrator/classify"
import type { Worker } from "../../src/orchestrator/executor"
import { ACTION_ROLES, encodeState, FEATURE_NAMES, STATE_VERSION, type PoolView, type TaskView } from "../../src/orchestrator/features"
import { budgetTokens, median, reward, type Baseline } from "../../src/orchestrator/reward"
import { HeuristicRouter, type RoutingContext } from "../../src/orchestrator/router"
import type { Task } from "../../src/store/task-types"

// The pure half of routing: which role a task's words point to, how a
// decision's state is encoded, what an outcome is worth, and which agent the
// heuristic router picks.

test("an explicit role wins; coordinate alone means the coordinator", () => {
  expect(classify({ description: "fix the React login page", role: "qa" })).toMatchObject({ role: "qa", reason: "explicit", coordinate: false })
  expect(classify({ description: "fix the React login page", coordinate: true })).toMatchObject({ role: "coordinator", reason: "coordinate", coordinate: true })
  // a named role with coordinate: that role's agent coordinates (a custom lead role)
  expect(classify({ description: "fix the React login page", role: "lead", coordinate: true })).toMatchObject({ role: "lead", reason: "explicit", coordinate: true })
  expect(classify({ description: "anything", role: "coordinator" })).toMatchObject({ role: "coordinator", coordinate: true })
})

test("content picks the role with the most evidence", () => {
  expect(classify({ description: "Add a GET /users endpoint to the REST API" })).toMatchObject({ role: "backend", reason: "content" })
  expect(classify({ description: "Make the navbar component responsive in CSS" })).toMatchObject({ role: "frontend", reason: "content" })
  expect(classify({ description: "Check for XSS and leaked secrets" })).toMatchObject({ role: "security", reason: "content" })
  expect(classify({ description: "Write unit tests and raise coverage of the parser" })).toMatchObject({ role: "qa", reason: "content" })
  // weak evidence for a second role does not make it multi-role
  expect(classify({ description: "Add a REST API endpoint, with a test" })).toMatchObject({ role: "backend", reason: "content", coordinate: false })
  expect(classify({ description: "say hello" })).toMatchObject({ role: null, reason: "none" })
  expect(classify({ description: "short", prompt: "update the postgres schema migration" }).role).toBe("backend")
})

test("strong evidence for two roles goes to the coordinator, but never for a subtask", () => {
  const text = "Build a signup page with a React form, backed by a REST API endpoint that stores users in Postgres"
  expect(roleScores(text).frontend).toBeGreaterThanOrEqual(2)
  expect(roleScores(text).backend).toBeGreaterThanOrEqual(2)
  expect(classify({ description: text })).toMatchObject({ role: "coordinator", coordinate: true, reason: "multi-role" })
  expect(roleScores(text).frontend).toBe(roleScores(text).backend)
  // a tie goes to the role listed first (frontend, backend, security, qa)
  expect(classify({ description: text, depth: 1 })).toMatchObject({ role: "frontend", coordinate: false, reason: "content" })
  expect(classify({ description: `${text}, with a migration`, depth: 1 })).toMatchObject({ role: "backend", coordinate: false, reason: "content" })
})

const taskView = (o: Partial<TaskView> = {}): TaskView => ({ role: "backend", scores: { frontend: 0, backend: 3, security: 1, qa: 0 }, coordinate: false, promptChars: 999, depth: 1, priority: 0, attempt: 1, maxAttempts: 3, ...o })
const poolView = (o: Partial<PoolView> = {}): PoolView => ({ idle: { backend: 2, qa: 1 }, busy: { coordinator: 1 }, agents: 4, maxAgents: 8, canSpawn: true, pending: 9, maxDepth: 3, ...o })

test("the state is a versioned vector in [0, 1], one value per documented feature", () => {
  const s = encodeState(taskView(), poolView())
  expect(s.v).toBe(STATE_VERSION)
  expect(s.features).toHaveLength(FEATURE_NAMES.length)
  expect(s.features.every((x) => x >= 0 && x <= 1)).toBe(true)
  const f = (name: string) => s.features[FEATURE_NAMES.indexOf(name)]
  expect(ACTION_ROLES.map((r) => f(`task.role.${r}`))).toEqual([0, 0, 1, 0, 0])
  expect(f("task.role.other")).toBe(0)
  expect(f("task.score.backend")).toBe(0.6)
  expect(f("task.score.security")).toBe(0.2)
  expect(f("task.prompt_length")).toBe(0.6) // log10(1000) / 5
  expect(f("task.depth")).toBeCloseTo(1 / 3, 4)
  expect(f("task.priority")).toBe(0.5)
  expect(f("task.attempt")).toBeCloseTo(1 / 3, 4)
  expect(f("pool.idle.backend")).toBe(0.25)
  expect(f("pool.idle.qa")).toBe(0.125)
  expect(f("pool.busy.coordinator")).toBe(0.125)
  expect(f("pool.agents")).toBe(0.5)
  expect(f("pool.can_spawn")).toBe(1)
  expect(f("queue.pending")).toBeCloseTo(1 / 3, 4) // log10(10) / 3
  expect(s.task).toEqual(taskView())
  expect(s.pool).not.toHaveProperty("maxDepth")
  // a custom role, and no role, land on the shared "other" slot only when there is a role
  const custom = encodeState(taskView({ role: "docs" }), poolView())
  expect(custom.features[FEATURE_NAMES.indexOf("task.role.other")]).toBe(1)
  const none = encodeState(taskView({ role: null }), poolView())
  expect(none.features.slice(0, ACTION_ROLES.length + 1)).toEqual([0, 0, 0, 0, 0, 0])
})

const usage = (inputTokens: number, outputTokens: number, cacheCreationTokens = 0, cacheReadTokens = 0) => ({ inputTokens, outputTokens, cacheCreationTokens, cacheReadTokens })
const baseline: Baseline = { ms: 1000, source: "default", samples: 0 }

test("reward: +1 success, +0.2 under budget, +0.1 faster than baseline, -0.5 failure, 0 cancelled", () => {
  const r = (o: Partial<Parameters<typeof reward>[0]>) => reward({ end: "completed", usage: usage(10, 10), durationMs: 500, tokenBudget: 100, baseline, ...o }).reward
  expect(r({})).toBe(1.3)
  expect(r({ durationMs: 1000 })).toBe(1.2) // not faster: equal to the baseline
  expect(r({ usage: usage(60, 30, 11) })).toBe(1.1) // 101 budget tokens
  expect(r({ usage: usage(60, 30, 10, 1_000_000) })).toBe(1.3) // cache reads do not count
  expect(r({ usage: usage(60, 30, 11), durationMs: 2000 })).toBe(1)
  expect(r({ end: "failed" })).toBe(-0.5)
  expect(r({ end: "requeued" })).toBe(-0.5)
  expect(r({ end: "cancelled" })).toBe(0)
  expect(budgetTokens(usage(1, 2, 3, 4))).toBe(6)
  expect(median([5, 1, 3])).toBe(3)
  expect(median([4, 1, 3, 2])).toBe(2.5)
})

const worker = (id: string, role = "backend"): Worker => ({ id, role, executor: "local", live: true, idle: true })
const ctx = (o: Partial<RoutingContext>): RoutingContext => ({
  task: { id: "t", role: "backend" } as Task,
  candidates: [],
  canSpawn: false,
  spawnRole: "backend",
  tried: new Set(),
  state: encodeState(taskView(), poolView()),
  soft: false,
  idle: o.candidates ?? [],
  spawnable: () => false,
  awaitStarting: () => false,
  ...o,
})

test("the heuristic router: idle agents first, the one idle longest, not one that lost the task; else spawn; else wait", () => {
  const r = new HeuristicRouter()
  expect(r.route(ctx({ candidates: [worker("b"), worker("a")] }))).toMatchObject({ kind: "assign", agent: { id: "a" } })
  expect(r.route(ctx({ candidates: [worker("b"), worker("a")] }))).toMatchObject({ kind: "assign", agent: { id: "b" } })
  expect(r.route(ctx({ candidates: [worker("b"), worker("a")] }))).toMatchObject({ kind: "assign", agent: { id: "a" } })
  expect(r.route(ctx({ candidates: [worker("b"), worker("a")], tried: new Set(["a"]) }))).toMatchObject({ kind: "assign", agent: { id: "b" } })
  // only the agent that lost it is idle: a fresh agent when one can be started, else that one again
  expect(r.route(ctx({ candidates: [worker("a")], tried: new Set(["a"]), canSpawn: true }))).toEqual({ kind: "spawn", role: "backend" })
  expect(r.route(ctx({ candidates: [worker("a")], tried: new Set(["a"]) }))).toMatchObject({ kind: "assign", agent: { id: "a" } })
  expect(r.route(ctx({ candidates: [], canSpawn: true, spawnRole: "qa" }))).toEqual({ kind: "spawn", role: "qa" })
  expect(r.route(ctx({ candidates: [] }))).toEqual({ kind: "wait" })
})

const pendingTask = (id: string, priority = 0) => ({ id, priority }) as Task

test("the backlog: unknown until a round sees the queue; then tasks created here are known exactly, and a read is needed only after other work", () => {
  const b = new Backlog()
  expect(b.isClear(false, ["backend"])).toBe(false) // nothing known at first
  expect(b.known()).toBeNull()

  // a read of the idle agents' roles only (the pool is full) that left nothing waiting clears those roles
  b.settled(b.mark(), false, ["backend"], [], [])
  expect(b.isClear(false, ["backend"])).toBe(true)
  expect(b.isClear(false, ["backend", "qa"])).toBe(false)
  expect(b.isClear(true, ["backend"])).toBe(false) // with room, only a read of the whole queue tells
  b.note()
  expect(b.isClear(false, ["backend"])).toBe(false)

  // a read of the whole queue: from then on the queue is known
  b.settled(b.mark(), true, [], [], [])
  expect(b.isClear(true, ["qa"])).toBe(true)
  expect(b.known()).toEqual([])
  const a = pendingTask("0001", 0)
  const urgent = pendingTask("0003", 5)
  b.note(a)
  b.note(urgent)
  expect(b.isClear(true, [])).toBe(false)
  expect(b.known()!.map((t) => t.id)).toEqual(["0003", "0001"]) // claim order: priority, then age

  // a round routes them; a task created meanwhile stays known; one left waiting too
  const mark = b.mark()
  const late = pendingTask("0004")
  b.note(late)
  b.settled(mark, true, [], [urgent, a], [a])
  expect(b.known()!.map((t) => t.id)).toEqual(["0001", "0004"])
  b.drop("0001") // cancelled while it waited
  expect(b.known()!.map((t) => t.id)).toEqual(["0004"])
  b.settled(b.mark(), true, [], [late], [])
  expect(b.isClear(false, [])).toBe(true)

  // anything else (a requeue, the tick, another daemon's task) means reading again
  b.note()
  expect(b.known()).toBeNull()
  b.note(pendingTask("0005"))
  expect(b.known()).toBeNull()
  // and a read overtaken by such work settles nothing
  const m = b.mark()
  b.note()
  b.settled(m, true, [], [], [])
  expect(b.known()).toBeNull()
})
