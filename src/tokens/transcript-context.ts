import { readdir, stat } from "node:fs/promises"
import { join } from "node:path"
import { compress } from "./compress"
import type { Estimator } from "./estimate"
import { conversationText, parseConversation, type Turn } from "./strategies/history"

// What an agent really did on an attempt, read from Claude Code's own
// session transcript: the JSONL files under the agent's CLAUDE_CONFIG_DIR
// (<stateDir>/claude/projects/<cwd as a name>/<session id>.jsonl; the pty
// driver reads the same file for each turn's usage). The lines written
// between the attempt's claim and its end are the attempt: the prompt, each
// tool call (name and what it was called on), the tool results, the
// assistant's texts. The whole of it is the snapshot's context; the summary
// a retry is given lists the files touched and the tool calls, the last
// assistant text, and the turns compressed with the existing strategies
// (summarize: long tool output to head and tail; history: older turns
// folded) within a budget.

export type ToolCall = { name: string; target: string }
export type Activity = { turns: Turn[]; tools: ToolCall[]; files: string[]; lastText: string; lines: number; sessions: string[] }

type Block = { type?: string; text?: unknown; name?: unknown; input?: unknown; content?: unknown; is_error?: unknown }
type Line = { type?: string; timestamp?: string; sessionId?: string; isMeta?: boolean; message?: { role?: string; content?: unknown } }

const FILE_KEYS = ["file_path", "notebook_path", "path"] as const
const MAX_TARGET = 200

function blocks(content: unknown): Block[] {
  if (typeof content === "string") return [{ type: "text", text: content }]
  return Array.isArray(content) ? content.filter((b): b is Block => typeof b === "object" && b !== null) : []
}

function resultText(content: unknown): string {
  return blocks(content)
    .map((b) => (b.type === "text" && typeof b.text === "string" ? b.text : ""))
    .join("\n")
}

function target(name: string, input: Record<string, unknown>): string {
  for (const k of FILE_KEYS) if (typeof input[k] === "string") return input[k] as string
  const v = input.command ?? input.pattern ?? input.url ?? input.query ?? input.description
  const s = typeof v === "string" ? v : JSON.stringify(input)
  return s.length > MAX_TARGET ? `${s.slice(0, MAX_TARGET - 1)}…` : s
}

const isReminder = (t: string) => t.trimStart().startsWith("<system-reminder>")

/** The attempt's activity from transcript lines (JSONL text) written in [sinceMs, untilMs). */
export function transcriptActivity(jsonl: readonly string[], sinceMs: number, untilMs = Infinity): Activity {
  const a: Activity = { turns: [], tools: [], files: [], lastText: "", lines: 0, sessions: [] }
  const files = new Set<string>()
  const sessions = new Set<string>()
  const push = (role: string, content: string) => {
    const last = a.turns.at(-1)
    if (last && last.role === role) last.content += `\n${content}`
    else a.turns.push({ role, content })
  }
  const rows: Line[] = []
  for (const text of jsonl.flatMap((f) => f.split("\n"))) {
    if (!text.trim()) continue
    let l: Line
    try {
      l = JSON.parse(text) as Line
    } catch {
      continue // a line being written
    }
    if ((l.type !== "assistant" && l.type !== "user") || !l.message || !l.timestamp) continue
    const at = Date.parse(l.timestamp)
    if (!(at >= sinceMs && at < untilMs)) continue
    rows.push(l)
  }
  rows.sort((x, y) => Date.parse(x.timestamp!) - Date.parse(y.timestamp!))
  for (const l of rows) {
    a.lines++
    if (l.sessionId) sessions.add(l.sessionId)
    for (const b of blocks(l.message!.content)) {
      if (b.type === "text" && typeof b.text === "string" && b.text.trim() && !isReminder(b.text) && !l.isMeta) {
        push(l.type === "assistant" ? "assistant" : "user", b.text)
        if (l.type === "assistant") a.lastText = b.text
      } else if (b.type === "tool_use" && typeof b.name === "string") {
        const input = (typeof b.input === "object" && b.input !== null ? b.input : {}) as Record<string, unknown>
        const call = { name: b.name, target: target(b.name, input) }
        a.tools.push(call)
        for (const k of FILE_KEYS) if (typeof input[k] === "string") files.add(input[k] as string)
        push("assistant", `[tool ${call.name}: ${call.target}]`)
      } else if (b.type === "tool_result") {
        const out = resultText(b.content)
        push("user", `[tool result${b.is_error === true ? " (error)" : ""}]\n${out}`)
      }
    }
  }
  a.files = [...files]
  a.sessions = [...sessions]
  return a
}

/** The transcript files of an agent's Claude Code home changed since `sinceMs`, read whole. */
export async function readTranscripts(stateDir: string, sinceMs: number): Promise<string[]> {
  const root = join(stateDir, "claude", "projects")
  const projects = await readdir(root).catch(() => [] as string[])
  const out: string[] = []
  for (const p of projects) {
    const dir = join(root, p)
    for (const f of await readdir(dir).catch(() => [] as string[])) {
      if (!f.endsWith(".jsonl")) continue
      const path = join(dir, f)
      const s = await stat(path).catch(() => undefined)
      if (!s?.isFile() || s.mtimeMs < sinceMs - 1000) continue
      out.push(await Bun.file(path).text())
    }
  }
  return out
}

/** The whole context of an attempt (every turn, uncut). */
export function activityContext(a: Activity): string {
  return a.turns.map((t) => `### ${t.role}\n${t.content}`).join("\n\n")
}

function counts(tools: readonly ToolCall[]): string {
  const by = new Map<string, number>()
  for (const t of tools) by.set(t.name, (by.get(t.name) ?? 0) + 1)
  return [...by].map(([n, c]) => `${n} ×${c}`).join(", ")
}

/** The summary of an attempt from its transcript: files, tool calls, the last text, and the turns compressed within `budgetTokens`. */
export async function activitySummary(a: Activity, est: Estimator, budgetTokens: number): Promise<{ text: string; tokensBefore: number; tokensAfter: number; strategies: string[] }> {
  const head = [
    `  Tool calls: ${a.tools.length}${a.tools.length ? ` (${counts(a.tools)})` : ""}.`,
    ...(a.files.length ? [`  Files touched: ${a.files.join(", ")}.`] : []),
    ...(a.lastText ? [`  Its last words: ${a.lastText.length > 600 ? `${a.lastText.slice(0, 599)}…` : a.lastText}`] : []),
  ].join("\n")
  const room = Math.max(64, budgetTokens - est.count(head))
  const r = await compress(conversationText({ messages: a.turns }), est, { strategies: ["deduplicate", "whitespace", "summarize", "history"], budgetTokens: room, keepRecent: 4 })
  const conv = parseConversation(r.content)
  const turns = (conv?.messages ?? a.turns).map((t) => `  ${t.role}: ${t.content.replaceAll("\n", "\n    ")}`).join("\n")
  return {
    text: `${head}\n  What it did, turn by turn${r.lossy ? " (older turns and long output shortened)" : ""}:\n${turns}`,
    tokensBefore: r.tokens_before,
    tokensAfter: r.tokens_after,
    strategies: r.strategies.filter((s) => s.tokens_saved > 0).map((s) => s.strategy),
  }
}
