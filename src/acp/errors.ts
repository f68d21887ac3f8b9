import { AppError, ExitCode, defineError, isAppError } from "../errors"
import { DbError } from "../store/sql"
import { ErrorCode } from "./protocol"

// Named errors of the ACP client and server. `RpcError` is what goes on the
// wire: a handler throws one to answer with that JSON-RPC code, and a caller
// gets one when the peer answered with an error.

export type RpcErrorObject = { code: number; message: string; data?: unknown }

export class RpcError extends AppError {
  readonly rpcCode: number
  readonly data?: unknown

  constructor(rpcCode: number, message: string, data?: unknown, hint?: string) {
    super("acp_rpc_error", message, { exitCode: ExitCode.tool, status: 502 }, { hint, details: data })
    this.rpcCode = rpcCode
    this.data = data
  }

  toRpc(): RpcErrorObject {
    return this.data === undefined ? { code: this.rpcCode, message: this.message } : { code: this.rpcCode, message: this.message, data: this.data }
  }

  static from(obj: RpcErrorObject): RpcError {
    return new RpcError(obj.code, obj.message, obj.data)
  }
}

/** A request got no answer within its timeout. */
export const AcpTimeoutError = defineError("acp_timeout", {
  exitCode: ExitCode.config,
  status: 504,
  hint: "check that the peer is alive and not overloaded, or raise the request timeout",
})

/** The connection closed (or was never open) while a request was pending. */
export const AcpConnectionClosedError = defineError("acp_connection_closed", {
  exitCode: ExitCode.config,
  status: 503,
  hint: "the client reconnects by itself; retry once it has registered again",
})

/** A frame the sender refused to send because the peer would reject it. */
export const AcpFrameTooLargeError = defineError("acp_frame_too_large", {
  exitCode: ExitCode.usage,
  status: 413,
  hint: "send large payloads by reference (a path or URL) instead of inline",
})

/** The server addressed an agent that is not connected. */
export const AcpAgentUnavailableError = defineError("acp_agent_unavailable", {
  exitCode: ExitCode.notFound,
  status: 409,
  hint: "list connected agents with the ACP status, or pick another agent",
})

/** A value failed its schema: "Invalid params: role: ..." (or "Invalid result of task_assign: ..."). */
export function invalidParams(issues: { path: string; message: string }[], what = "params"): RpcError {
  const first = issues[0]
  const where = first ? `${first.path || "(root)"}: ${first.message}` : "(root)"
  return new RpcError(ErrorCode.invalidParams, `Invalid ${what}: ${where}`, { issues })
}

/** The wire form of anything a handler threw; `internal` marks a bug worth logging with its stack. */
export function toRpcError(e: unknown): { error: RpcErrorObject; internal: boolean } {
  if (e instanceof RpcError) return { error: e.toRpc(), internal: false }
  if (isAppError(e)) return { error: { code: ErrorCode.application, message: e.message, data: { code: e.code, hint: e.hint } }, internal: false }
  // A value the database refused (SQLSTATE class 22, data exception: a number out of range, a bad
  // date): the params were wrong, not the daemon.
  if (e instanceof DbError && e.code.startsWith("22")) return { error: { code: ErrorCode.invalidParams, message: `Invalid params: ${e.message}`, data: { sqlstate: e.code } }, internal: false }
  return { error: { code: ErrorCode.internalError, message: "Internal error" }, internal: true }
}
