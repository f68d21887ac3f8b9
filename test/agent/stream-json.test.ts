import { expect, test } from "bun:test"
import { parseStreamLine, turnResult } from "../../src/agent/stream-json"

// Lines as Claude Code 2.1.328 prints them (trimmed to the fields that matter).

test("assistant lines give one event per block; tool results and control messages are read", () => {
  expect(parseStreamLine('{"type":"assistant","message":{"content":[{"type":"thinking","thinking":"hm"},{"type":"text","text":"Looking."},{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls"}}]}}')).toEqual([
    { kind: "event", event: { type: "text", text: "Looking." } },
    { kind: "event", event: { type: "tool_use", id: "t1", name: "Bash", input: { command: "ls" } } },
  ])
  expect(parseStreamLine('{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"a\\nb"}],"is_error":true}]}}')).toEqual([
    { kind: "event", event: { type: "tool_result", toolUseId: "t1", text: "a\nb", isError: true } },
  ])
  expect(parseStreamLine('{"type":"control_response","response":{"subtype":"success","request_id":"cca-1","response":{"still_queued":[]}}}')).toEqual([
    { kind: "control_response", requestId: "cca-1", ok: true, error: undefined, response: { still_queued: [] } },
  ])
  expect(parseStreamLine('{"type":"control_request","request_id":"r9","request":{"subtype":"can_use_tool","tool_name":"Bash"}}')[0]).toMatchObject({ kind: "control_request", requestId: "r9", subtype: "can_use_tool" })
  expect(parseStreamLine("not json")).toEqual([])
  expect(parseStreamLine("")).toEqual([])
})

test("a result is the turn's: its own usage, and its share of the process's running cost", () => {
  const second = {
    type: "result",
    subtype: "success",
    is_error: false,
    result: "two",
    session_id: "s1",
    total_cost_usd: 0.0006,
    duration_ms: 120,
    duration_api_ms: 80,
    num_turns: 1,
    usage: { input_tokens: 11, output_tokens: 7, cache_creation_input_tokens: 3, cache_read_input_tokens: 5 },
    permission_denials: [{ tool_name: "Bash", tool_use_id: "t1", tool_input: { command: "curl x" } }],
    terminal_reason: "completed",
  }
  const r = turnResult(second, { previousTotalCost: 0.0004, interrupted: false, fallbackText: "", sessionId: "s0" })
  expect(r).toMatchObject({ sessionId: "s1", text: "two", ok: true, interrupted: false, subtype: "success", durationMs: 120, durationApiMs: 80, numTurns: 1 })
  expect(r.costUsd).toBeCloseTo(0.0002, 12)
  expect(r.usage).toEqual({ inputTokens: 11, outputTokens: 7, cacheCreationInputTokens: 3, cacheReadInputTokens: 5 })
  expect(r.permissionDenials).toEqual([{ toolName: "Bash", toolUseId: "t1", input: { command: "curl x" } }])
  // model_usage_since_last_result, when present, is the turn's own cost.
  const withSince = turnResult({ ...second, model_usage_since_last_result: { a: { costUSD: 0.00015 }, b: { costUSD: 0.00001 } } }, { previousTotalCost: 0, interrupted: false, fallbackText: "", sessionId: "s0" })
  expect(withSince.costUsd).toBeCloseTo(0.00016, 12)

  const interrupted = turnResult(
    { type: "result", subtype: "error_during_execution", is_error: true, session_id: "s1", terminal_reason: "aborted_streaming", errors: ["[ede_diagnostic] result_type=user"], usage: {} },
    { previousTotalCost: 0, interrupted: false, fallbackText: "partial", sessionId: "s1" },
  )
  expect(interrupted).toMatchObject({ interrupted: true, ok: false, subtype: "interrupted", text: "partial", errors: ["[ede_diagnostic] result_type=user"] })
})
