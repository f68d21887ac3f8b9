import { defineError, ExitCode } from "../errors"

// Errors of the pool. Agent-level ones (AgentStartError, AgentCrashedError,
// AgentStoppedError, AgentBusyError) come from src/agent/errors.ts and pass
// through unchanged; these are the pool's own refusals.

/** max_agents reached: 409 with a hint. */
export const PoolFullError = defineError("pool_full", { exitCode: ExitCode.usage, status: 409 })
/** The role's circuit is open after repeated crashes: 503 until it is retried. */
export const RoleDegradedError = defineError("role_degraded", { exitCode: ExitCode.prerequisite, status: 503 })
/** A turn ran past its time limit and was interrupted. */
export const TurnTimeoutError = defineError("timeout", { exitCode: ExitCode.tool, status: 504 })

export { AgentBusyError, AgentCrashedError, AgentStartError, AgentStoppedError } from "../agent/errors"
