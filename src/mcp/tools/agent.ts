import * as z from "zod"
import type { TaskOutcome } from "../../acp/protocol"
import { ConflictError } from "../../errors"
import type { AgentLink } from "../agent-link"
import { defineTool, type ToolContext } from "../tool"
import type { TaskJson } from "./tasks"

// The tools an agent of the pool gets (`cca mcp --agent ID`): hand part of
// its task to another agent, and report progress on its task. Both go over
// the agent's ACP link; its current task is the one the daemon lists as
// running on it, unless task_id names another.

const DEFAULT_WAIT_S = 600

function outcome(o: TaskOutcome): { summary: string; detail?: string } {
  if (o.status === "completed") return { summary: `Delegated task ${o.taskId} completed; its result follows`, detail: o.output ?? "(no output)" }
  return { summary: `Delegated task ${o.taskId} ${o.status}${o.error ? `: ${o.error}` : ""}` }
}

/** A task id the agent may report on: running, and on this agent. */
async function ownRunningTask(agent: AgentLink, ctx: ToolContext, taskId: string | undefined, signal: AbortSignal): Promise<string> {
  const id = await agent.taskOrCurrent(taskId, signal)
  if (taskId) {
    const t = await ctx.daemon.call<TaskJson>("GET", `/api/v1/tasks/${encodeURIComponent(id)}`, { signal })
    if (t.status !== "running" || t.agentId !== agent.agentId) {
      throw new ConflictError(`task ${id} is not running on agent ${agent.agentId} (it is ${t.status}${t.agentId ? ` on agent ${t.agentId}` : ""})`, { hint: "report progress only on the task you are running; leave task_id out to use it" })
    }
  }
  return id
}

export function agentModeTools(ctx: ToolContext) {
  const agent = ctx.agent
  if (!agent) return []
  return [
    defineTool({
      name: "cca_delegate",
      title: "Delegate a subtask",
      description: "Hand a subtask to another cca agent (optionally of a role); returns its task id, or with wait=true its result.",
      input: {
        task: z.string().trim().min(1, "task must say what the other agent should do").max(100_000).describe("The subtask, self-contained: the other agent sees only this"),
        role: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "role must be a role name such as backend, frontend, qa").optional().describe("Role that should do it, e.g. qa; any when left out"),
        wait: z.boolean().optional().describe("Wait for the subtask's result"),
        timeout_s: z.number().int().min(1).max(86_400).optional().describe(`With wait: longest wait in seconds (default ${DEFAULT_WAIT_S})`),
      },
      output: { taskId: z.string(), parentTaskId: z.string().nullable(), result: z.object({ status: z.string(), output: z.string().optional(), error: z.string().optional() }).loose().nullable() },
      async run({ task, role, wait, timeout_s }, call) {
        const parentTaskId = await agent.currentTask(call.signal)
        const r = await agent.delegate({ prompt: task, role, parentTaskId, wait: wait ?? false, title: task.split("\n")[0]!.slice(0, 200) }, (timeout_s ?? DEFAULT_WAIT_S) * 1000, call.signal)
        const data = { taskId: r.taskId, parentTaskId: parentTaskId ?? null, result: r.result ?? null }
        if (r.result) return { ...outcome(r.result), data }
        const summary = wait
          ? `Delegated task ${r.taskId} did not finish within ${timeout_s ?? DEFAULT_WAIT_S} s; it goes on. Check it with cca_status {"task_id": "${r.taskId}"}`
          : `Delegated task ${r.taskId}${role ? ` to role ${role}` : ""}${parentTaskId ? ` as a subtask of ${parentTaskId}` : ""}. Check it with cca_status {"task_id": "${r.taskId}"}`
        return { summary, data }
      },
    }),
    defineTool({
      name: "cca_report_progress",
      title: "Report progress",
      description: "Tell the cca daemon how far your current task is (a short message and optionally a percentage).",
      input: {
        message: z.string().trim().min(1, "message must say what was done").max(10_000).describe("What is done, what comes next"),
        percent: z.number().min(0).max(100).optional().describe("How far along, 0 to 100"),
        task_id: z.string().min(1).max(100).optional().describe("The task; default: the one you are running"),
      },
      async run({ message, percent, task_id }, call) {
        const taskId = await ownRunningTask(agent, ctx, task_id, call.signal)
        await agent.progress({ taskId, message, percent }, call.signal)
        return { summary: `progress of task ${taskId} reported${percent === undefined ? "" : ` (${percent}%)`}`, data: { taskId, message, percent: percent ?? null } }
      },
    }),
  ]
}
