import type { TokenUsage } from "./types"

// The pty driver has no stream of results; Claude Code's transcript (the
// session's JSONL file, named in every hook input) has the usage of each model
// call. One API message can appear as several `assistant` lines (one per
// content block) with the same message id; each is counted once, with the
// largest output count seen (early lines may carry message_start's figure).
//
// Claude Code 2.1.328 flushes the transcript about 100 ms after the Stop hook
// fires, so the reader waits until the turn's final text is in the file.
// A turn the API refused ends with a synthetic assistant line
// (`isApiErrorMessage: true`, `apiErrorStatus: 400`, its text "API Error: ...").

type Line = { type?: string; timestamp?: string; isApiErrorMessage?: boolean; apiErrorStatus?: unknown; message?: { id?: string; usage?: Record<string, unknown>; content?: unknown } }

const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0)

function texts(content: unknown): string[] {
  if (!Array.isArray(content)) return []
  return content.flatMap((b) => (typeof b === "object" && b !== null && (b as { type?: unknown }).type === "text" ? [String((b as { text?: unknown }).text ?? "")] : []))
}

export type TurnRecord = { usage: TokenUsage; complete: boolean; apiErrorStatus?: number }

/** Usage of the assistant messages written since `sinceMs`, whether `finalText` is among them, and the HTTP status of an API error among them. */
export function turnUsage(jsonl: string, sinceMs: number, finalText: string): TurnRecord {
  const byId = new Map<string, Record<string, unknown>>()
  let complete = false
  let apiErrorStatus: number | undefined
  for (const text of jsonl.split("\n")) {
    if (!text.includes('"assistant"')) continue
    let line: Line
    try {
      line = JSON.parse(text) as Line
    } catch {
      continue // a line being written right now
    }
    if (line.type !== "assistant" || !line.message?.usage) continue
    if (line.timestamp && Date.parse(line.timestamp) < sinceMs) continue
    if (finalText === "" || texts(line.message.content).includes(finalText)) complete = true
    if (line.isApiErrorMessage && typeof line.apiErrorStatus === "number") apiErrorStatus = line.apiErrorStatus
    const id = line.message.id ?? text
    const before = byId.get(id)
    if (!before || n(line.message.usage.output_tokens) > n(before.output_tokens)) byId.set(id, line.message.usage)
  }
  const usage: TokenUsage = { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }
  for (const u of byId.values()) {
    usage.inputTokens += n(u.input_tokens)
    usage.outputTokens += n(u.output_tokens)
    usage.cacheCreationInputTokens += n(u.cache_creation_input_tokens)
    usage.cacheReadInputTokens += n(u.cache_read_input_tokens)
  }
  return apiErrorStatus === undefined ? { usage, complete } : { usage, complete, apiErrorStatus }
}

/** Reads the transcript until the turn's final text is in it (or `timeoutMs` passes: then what is there). */
export async function waitForTurnRecord(path: string, sinceMs: number, finalText: string, timeoutMs = 2_000): Promise<TurnRecord> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const file = Bun.file(path)
    const r = turnUsage((await file.exists()) ? await file.text() : "", sinceMs, finalText)
    if (r.complete || Date.now() >= deadline) return r
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
