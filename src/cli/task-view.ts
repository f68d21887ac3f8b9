import type { TaskJson } from "../daemon/task-json"
import { keyValues } from "../output"

// The task as the daemon's API returns it, and how commands print it.

export type TaskView = TaskJson

export function describeTask(t: TaskView): string {
  return keyValues([
    ["id", t.id],
    ["status", t.status + (t.progress !== null && t.status === "running" ? ` (${Math.round(t.progress * 100)}%${t.progressMessage ? `: ${t.progressMessage}` : ""})` : "")],
    ["role", t.role ?? "(any)"],
    ["description", t.description],
    ["agent", t.agentId ?? ""],
    ["attempts", `${t.attempts} of ${t.maxAttempts}`],
    ["created", t.createdAt],
    ["finished", t.finishedAt ?? ""],
    ["tokens", `${t.usage.inputTokens} in, ${t.usage.outputTokens} out`],
    ...(t.error ? ([["error", `${t.error.code}: ${t.error.message}`]] as [string, string][]) : []),
    ...(t.result !== null ? ([["result", t.result]] as [string, string][]) : []),
  ])
}
