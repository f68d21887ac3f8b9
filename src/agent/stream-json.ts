import type { AgentEvent, PermissionDenial, TokenUsage, TurnResult } from "./types"

// Claude Code's stream-json output (claude -p --output-format stream-json
// --verbose), read into agent events. Shapes as printed by Claude Code 2.1.328:
//   {"type":"system","subtype":"init","session_id","model","tools":[..],"mcp_servers":[{name,status}]}
//     (once per turn, when the turn starts)
//   {"type":"assistant","message":{"content":[{type:"text"|"tool_use"|"thinking",..}],"usage":..}}
//     (one per content block; usage here is message_start's, not final)
//   {"type":"user","message":{"content":[{type:"tool_result",tool_use_id,content,is_error}]}}
//   {"type":"result","subtype":"success"|"error_during_execution"|..,"is_error","result",
//     "usage":{per turn},"total_cost_usd":{cumulative for the process},
//     "model_usage_since_last_result":{model:{costUSD,..}},"duration_ms","duration_api_ms",
//     "num_turns","permission_denials":[{tool_name,tool_use_id,tool_input}],"terminal_reason","errors"}
//     (an interrupt ends the turn with subtype error_during_execution, is_error true,
//     terminal_reason aborted_streaming, zero usage)
//   {"type":"control_response","response":{"subtype":"success"|"error","request_id",..}}
//   {"type":"control_request","request_id","request":{"subtype":"can_use_tool",..}} (CLI asks the host)

type Json = Record<string, unknown>

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v)
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0)
const str = (v: unknown): string => (typeof v === "string" ? v : "")

export type StreamMessage =
  | { kind: "event"; event: AgentEvent }
  | { kind: "result"; raw: Json }
  | { kind: "control_response"; requestId: string; ok: boolean; error?: string; response: Json }
  | { kind: "control_request"; requestId: string; subtype: string; request: Json }
  | { kind: "other"; raw: Json }

export function toolResultText(content: unknown): string {
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return ""
  return content.map((b) => (isObject(b) && b.type === "text" ? str(b.text) : "")).join("")
}

/** One line of stream-json output into zero or more messages (an assistant line may carry several blocks). */
export function parseStreamLine(line: string): StreamMessage[] {
  const trimmed = line.trim()
  if (!trimmed) return []
  let raw: unknown
  try {
    raw = JSON.parse(trimmed)
  } catch {
    return [] // Claude Code prints only JSON on stdout in this mode; anything else is not ours to act on
  }
  if (!isObject(raw)) return []
  switch (raw.type) {
    case "system":
      if (raw.subtype === "init") {
        const servers = Array.isArray(raw.mcp_servers) ? raw.mcp_servers.filter(isObject).map((s) => ({ name: str(s.name), status: str(s.status) })) : []
        const tools = Array.isArray(raw.tools) ? raw.tools.map(str) : []
        return [{ kind: "event", event: { type: "init", sessionId: str(raw.session_id), model: str(raw.model), tools, mcpServers: servers } }]
      }
      return [{ kind: "other", raw }]
    case "assistant": {
      const content = isObject(raw.message) && Array.isArray(raw.message.content) ? raw.message.content.filter(isObject) : []
      const out: StreamMessage[] = []
      for (const b of content) {
        if (b.type === "text" && str(b.text)) out.push({ kind: "event", event: { type: "text", text: str(b.text) } })
        else if (b.type === "tool_use") out.push({ kind: "event", event: { type: "tool_use", id: str(b.id), name: str(b.name), input: b.input } })
      }
      return out
    }
    case "user": {
      const content = isObject(raw.message) && Array.isArray(raw.message.content) ? raw.message.content.filter(isObject) : []
      return content
        .filter((b) => b.type === "tool_result")
        .map((b) => ({ kind: "event", event: { type: "tool_result", toolUseId: str(b.tool_use_id), text: toolResultText(b.content), isError: b.is_error === true } }))
    }
    case "result":
      return [{ kind: "result", raw }]
    case "control_response": {
      const r = isObject(raw.response) ? raw.response : {}
      return [{ kind: "control_response", requestId: str(r.request_id), ok: r.subtype === "success", error: typeof r.error === "string" ? r.error : undefined, response: isObject(r.response) ? r.response : {} }]
    }
    case "control_request": {
      const request = isObject(raw.request) ? raw.request : {}
      return [{ kind: "control_request", requestId: str(raw.request_id), subtype: str(request.subtype), request }]
    }
    default:
      return [{ kind: "other", raw }]
  }
}

export function usageOf(u: unknown): TokenUsage {
  const x = isObject(u) ? u : {}
  return {
    inputTokens: num(x.input_tokens),
    outputTokens: num(x.output_tokens),
    cacheCreationInputTokens: num(x.cache_creation_input_tokens),
    cacheReadInputTokens: num(x.cache_read_input_tokens),
  }
}

/**
 * The turn's cost. `total_cost_usd` adds up over the life of the process, so
 * the turn's share is the sum of `model_usage_since_last_result[*].costUSD`
 * when present, else the difference to the previous result's total.
 */
function turnCost(raw: Json, previousTotal: number): number {
  const since = raw.model_usage_since_last_result
  if (isObject(since)) {
    const costs = Object.values(since).filter(isObject).map((m) => num(m.costUSD))
    if (costs.length > 0) return costs.reduce((a, b) => a + b, 0)
  }
  return Math.max(0, num(raw.total_cost_usd) - previousTotal)
}

export function turnResult(raw: Json, opts: { previousTotalCost: number; interrupted: boolean; fallbackText: string; sessionId: string }): TurnResult {
  const denials: PermissionDenial[] = Array.isArray(raw.permission_denials)
    ? raw.permission_denials.filter(isObject).map((d) => ({ toolName: str(d.tool_name), toolUseId: str(d.tool_use_id), input: d.tool_input }))
    : []
  // An interrupted turn ends with subtype error_during_execution and terminal_reason aborted_streaming (or aborted_tools).
  const interrupted = opts.interrupted || str(raw.terminal_reason).startsWith("aborted")
  const subtype = interrupted ? "interrupted" : str(raw.subtype) || "unknown"
  return {
    sessionId: str(raw.session_id) || opts.sessionId,
    text: typeof raw.result === "string" ? raw.result : opts.fallbackText,
    ok: raw.is_error !== true && !interrupted,
    interrupted,
    subtype,
    usage: usageOf(raw.usage),
    costUsd: turnCost(raw, opts.previousTotalCost),
    durationMs: num(raw.duration_ms),
    durationApiMs: typeof raw.duration_api_ms === "number" ? raw.duration_api_ms : undefined,
    numTurns: typeof raw.num_turns === "number" ? raw.num_turns : undefined,
    permissionDenials: denials,
    errors: Array.isArray(raw.errors) ? raw.errors.map(str).filter(Boolean) : [],
    ...(typeof raw.api_error_status === "number" ? { apiError: { status: raw.api_error_status, type: str(raw.api_error_type) } } : {}),
  }
}

/**
 * Why a turn that is not ok failed, as a task error. Problem: Claude Code
 * ends a turn whose model request was refused (HTTP 400, 529 after its own
 * retries, ...) with `subtype: "success"` and `is_error: true`, the API's
 * text in `result` and the status in `api_error_status`; the task's error
 * used to read "the turn ended with success". Fix: the API's status, type
 * and text when there are some, else Claude Code's errors, else its text.
 */
export function turnFailure(r: TurnResult): { code: string; message: string; details?: Record<string, unknown> } {
  const text = r.text.trim().slice(0, 2000)
  if (r.apiError) {
    const what = [`HTTP ${r.apiError.status}`, r.apiError.type].filter(Boolean).join(" ")
    return { code: "model_api_error", message: `the model endpoint refused the request (${what}): ${text || "no text"}`, details: { status: r.apiError.status, type: r.apiError.type || null, subtype: r.subtype } }
  }
  if (r.errors.length > 0) return { code: "agent_failed", message: r.errors.join("; "), details: { subtype: r.subtype } }
  if (text) return { code: "agent_failed", message: `Claude Code reported an error (${r.subtype}): ${text}`, details: { subtype: r.subtype } }
  return { code: "agent_failed", message: `the turn ended with ${r.subtype}`, details: { subtype: r.subtype } }
}

export const totalCost = (raw: Json): number => num(raw.total_cost_usd)
