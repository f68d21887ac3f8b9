import { afterAll, beforeAll, expect, test } from "bun:test"
import type { AcpClient } from "../../src/acp/client"
import type { BroadcastNotice, TaskAssignParams } from "../../src/acp/protocol"
import { deferred } from "../acp/support"
import { daemonEnv, startDaemon, startMcp, taskEvent, text, type Daemon, type McpSession } from "./support"

// `cca mcp --agent ID`: the agent's bridge over ACP, beside the agent's own
// connection. The "agent" here is a worker over ACP (the acp client library)
// that holds a task; its bridge reports progress on that task and delegates
// subtasks through ACP agent.delegate, which helper workers run.

let d: Daemon
let mcp: McpSession
let worker: AcpClient
let mainTask: string
const workerBroadcasts: BroadcastNotice[] = []
const broadcastSeen = deferred<BroadcastNotice>()

beforeAll(async () => {
  d = await startDaemon()
  const assigned = deferred<TaskAssignParams>()
  worker = await d.agent("am-worker", "am-main", {
    taskAssign: (t) => (assigned.resolve(t), { accepted: true }),
    broadcast: (n) => (workerBroadcasts.push(n), broadcastSeen.resolve(n)),
  })
  mainTask = (await d.api("POST", "/api/v1/tasks", { description: "build the feature", role: "am-main" })).body.id
  expect((await assigned.promise).taskId).toBe(mainTask)
  await taskEvent(d, mainTask, "accepted")
  mcp = await startMcp(["--agent", "am-worker", "--role", "am-main"], daemonEnv(d))
}, 90_000)

afterAll(async () => {
  await mcp?.close()
  await d?.[Symbol.asyncDispose]()
})

test("the agent tools come on top of the 17 shared ones", async () => {
  const names = (await mcp.client.listTools()).tools.map((t) => t.name)
  expect(names).toHaveLength(20)
  expect(names).toContain("search_code") // an agent's own name for cca_search_code
  expect(names).toContain("cca_memory")
  expect(names).toContain("cca_delegate")
  expect(names).toContain("cca_report_progress")
  expect(names).toContain("cca_task")
})

test("cca_report_progress reaches the daemon as task.progress on the agent's running task", async () => {
  const progressed = taskEvent(d, mainTask, "progress")
  const r = await mcp.call("cca_report_progress", { message: "schema done, routes next", percent: 40 })
  expect(r.isError).toBeFalsy()
  expect(text(r)).toBe(`progress of task ${mainTask} reported (40%)`)
  expect((await progressed).data).toMatchObject({ message: "schema done, routes next" })
  expect((await d.api("GET", `/api/v1/tasks/${mainTask}`)).body).toMatchObject({ progress: 0.4, progressMessage: "schema done, routes next", status: "running", agentId: "am-worker" })
  // The bridge is an ACP agent of its own, marked as a bridge, holding no task.
  const bridge = (await d.api("GET", `/api/v1/agents/${encodeURIComponent("am-worker/mcp")}`)).body
  expect(bridge).toMatchObject({ id: "am-worker/mcp", role: "am-main", capabilities: ["mcp-bridge"], taskIds: [], connected: true })
  // The worker's own connection was not superseded: it still holds its task.
  expect((await d.api("GET", "/api/v1/agents/am-worker")).body).toMatchObject({ connected: true, taskIds: [mainTask] })
})

test("cca_report_progress refuses a task the agent does not run", async () => {
  const other = (await d.api("POST", "/api/v1/tasks", { description: "someone else's", role: "am-nobody" })).body.id as string
  const r = await mcp.call("cca_report_progress", { message: "hi", task_id: other })
  expect(r.isError).toBe(true)
  expect(text(r)).toBe(`cca_report_progress: task ${other} is not running on agent am-worker (it is pending)\nTry: report progress only on the task you are running; leave task_id out to use it`)
  await d.api("POST", `/api/v1/tasks/${other}/cancel`, {})
})

test("cca_delegate creates a child task of the agent's task through ACP and returns its id", async () => {
  const r = await mcp.call("cca_delegate", { task: "write the migration\nfor the users table", role: "am-absent" })
  expect(r.isError).toBeFalsy()
  const { taskId, parentTaskId, result } = r.structuredContent as { taskId: string; parentTaskId: string; result: unknown }
  expect(parentTaskId).toBe(mainTask)
  expect(result).toBeNull()
  expect(text(r)).toBe(`Delegated task ${taskId} to role am-absent as a subtask of ${mainTask}. Check it with cca_status {"task_id": "${taskId}"}`)
  const child = (await d.api("GET", `/api/v1/tasks/${taskId}`)).body
  expect(child).toMatchObject({ parentId: mainTask, role: "am-absent", status: "pending", source: "delegation", description: "write the migration", prompt: "write the migration\nfor the users table", metadata: { delegatedBy: "am-worker" } })
  await d.api("POST", `/api/v1/tasks/${taskId}/cancel`, {})
})

test("cca_delegate with wait returns the child's result once a helper ran it", async () => {
  const helper: AcpClient = await d.agent("am-helper", "am-qa", {
    taskAssign: (t) => {
      setTimeout(() => void helper.result({ taskId: t.taskId, status: "completed", output: `tested: ${t.prompt}` }), 0)
      return { accepted: true }
    },
  })
  const r = await mcp.call("cca_delegate", { task: "test the login flow", role: "am-qa", wait: true, timeout_s: 30 })
  expect(r.isError).toBeFalsy()
  const data = r.structuredContent as { taskId: string; parentTaskId: string; result: { status: string; output: string } }
  expect(data.parentTaskId).toBe(mainTask)
  expect(data.result).toMatchObject({ status: "completed", output: "tested: test the login flow" })
  expect(text(r)).toBe(`Delegated task ${data.taskId} completed; its result follows\n\ntested: test the login flow`)
  expect((await d.api("GET", `/api/v1/tasks/${data.taskId}`)).body).toMatchObject({ status: "completed", agentId: "am-helper", parentId: mainTask })
  await helper.close()
})

test("the dispatcher offers the bridge no task, even one of its role while its agent is busy", async () => {
  // Higher priority first: the round that hands out the second task has passed over the first.
  const forRole = (await d.api("POST", "/api/v1/tasks", { description: "nobody idle of am-main", role: "am-main", priority: 10 })).body.id as string
  const idle = await d.agent("am-idle", "am-other", { taskAssign: () => ({ accepted: true }) })
  const other = (await d.api("POST", "/api/v1/tasks", { description: "for the idle one", role: "am-other", priority: 1 })).body.id as string
  await taskEvent(d, other, "claimed")
  expect((await d.api("GET", `/api/v1/tasks/${forRole}`)).body).toMatchObject({ status: "pending", attempts: 0, agentId: null })
  await d.api("POST", `/api/v1/tasks/${forRole}/cancel`, {})
  await idle.close()
})

test("cca_broadcast in agent mode goes out over ACP from the bridge", async () => {
  const r = await mcp.call("cca_broadcast", { message: "api frozen", role: "am-main" })
  expect(r.isError).toBeFalsy()
  expect(r.structuredContent).toEqual({ summary: "broadcast delivered to 1 agent(s) of role am-main (connected workers hear it at once, the daemon's own agents before their next prompt)", recipients: 1 })
  expect(await broadcastSeen.promise).toMatchObject({ from: "am-worker/mcp", message: "api frozen", role: "am-main" })
  expect(workerBroadcasts).toHaveLength(1)
})

test("once the agent's task is done, progress without a task_id says there is none", async () => {
  await worker.result({ taskId: mainTask, status: "completed", output: "built" })
  const r = await mcp.call("cca_report_progress", { message: "late" })
  expect(r.isError).toBe(true)
  expect(text(r)).toBe("cca_report_progress: agent am-worker runs no task right now\nTry: pass task_id: the id of the task you are working on")
})
