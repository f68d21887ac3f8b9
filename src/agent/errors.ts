import { defineError, ExitCode } from "../errors"

// Errors of one agent. The message names what happened; `details.lastOutput`
// carries what the agent said or printed last, so a failure can be understood
// without digging through logs.

export const AgentStartError = defineError("agent_start_failed", { exitCode: ExitCode.tool, status: 502 })
export const AgentCrashedError = defineError("agent_crashed", { exitCode: ExitCode.tool, status: 502 })
export const AgentStoppedError = defineError("agent_stopped", { exitCode: ExitCode.tool, status: 409 })
export const AgentBusyError = defineError("agent_busy", {
  exitCode: ExitCode.usage,
  status: 409,
  hint: "wait for the running turn to end, or interrupt it first",
})
