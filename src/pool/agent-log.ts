import type { AgentEvent } from "../agent/types"
import { redact } from "../log"
import type { LogEntry } from "./types"

// Each agent's log: what happened to it (spawn, ready, crash, restart, stop)
// and what it did (prompts, text, tool calls, turn ends), newest last. Bounded
// in entries and in the length of each entry, however long the agent runs;
// kept across restarts of the agent. Raw terminal output is not logged (the
// pty's ring buffer replays it to attached viewers).

const MAX_TEXT = 2_000

function clip(text: string): string {
  const t = redact(text)
  return t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT)}… (${t.length - MAX_TEXT} more characters)` : t
}

function brief(value: unknown): string {
  try {
    return JSON.stringify(value) ?? ""
  } catch {
    return String(value)
  }
}

export class AgentLog {
  private entries: LogEntry[] = []
  private seq = 0
  private watchers = new Set<(e: LogEntry) => void>()

  constructor(
    private readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {}

  add(kind: LogEntry["kind"], text: string, taskId?: string | null): void {
    const entry: LogEntry = { seq: ++this.seq, at: new Date(this.now()).toISOString(), kind, text: clip(text) }
    if (taskId !== undefined) entry.taskId = taskId
    this.entries.push(entry)
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity)
    for (const w of this.watchers) w(entry)
  }

  /** Every entry added from now on (the dashboard's live log). Returns the unsubscribe. */
  watch(fn: (e: LogEntry) => void): () => void {
    this.watchers.add(fn)
    return () => this.watchers.delete(fn)
  }

  /** An agent event as a log line, or nothing for events that are not worth one. */
  event(e: AgentEvent, taskId: string | null): void {
    switch (e.type) {
      case "init":
        return this.add("lifecycle", `session ${e.sessionId}, model ${e.model}, ${e.tools.length} tools, MCP: ${e.mcpServers.map((s) => `${s.name} ${s.status}`).join(", ") || "none"}`, taskId)
      case "text":
        return this.add("text", e.text, taskId)
      case "tool_use":
        return this.add("tool_use", `${e.name} ${brief(e.input)}`, taskId)
      case "tool_result":
        return this.add("tool_result", `${e.isError ? "error: " : ""}${e.text}`, taskId)
      case "turn_end": {
        const r = e.result
        const how = r.interrupted ? "interrupted" : r.ok ? "ok" : `error (${r.subtype}${r.errors.length ? `: ${r.errors.join("; ")}` : ""})`
        const cost = r.costUsd === undefined ? "" : `, $${r.costUsd.toFixed(6)}`
        return this.add("turn_end", `${how}: ${r.usage.inputTokens} in / ${r.usage.outputTokens} out tokens${cost}, ${r.durationMs} ms`, taskId)
      }
      case "waiting":
        return this.add("waiting", e.message || "waiting for input", taskId)
      case "hook":
        return this.add("hook", e.name, taskId)
      case "exit":
        return this.add(e.crashed ? "error" : "lifecycle", `claude ${e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`}${e.crashed && e.lastOutput ? `; last output: ${e.lastOutput}` : ""}`, taskId)
      default:
        return
    }
  }

  /**
   * Oldest first: the last `limit` entries, or with `after` (a seq) the first
   * `limit` entries after it. `next` is the `after` of the following page.
   */
  read(after: number | undefined, limit = 100): { items: LogEntry[]; next: number } {
    const items = after === undefined ? this.entries.slice(-limit) : this.entries.filter((e) => e.seq > after).slice(0, limit)
    return { items, next: items.at(-1)?.seq ?? after ?? this.seq }
  }
}
