import type { Estimator } from "../estimate"

// A conversation's older turns folded into one summary turn. The system
// prompt always stays, and so do the newest turns: as many as fit the budget
// (at least `keepRecent`). Lossy: the summary keeps, per folded turn, who
// spoke, its first line, the tools it called and the files it named.

export type Turn = { role: string; content: string }
export type Conversation = { system?: string; messages: Turn[] }

/** A conversation given as JSON text: `{ system?, messages: [{ role, content }] }` or `[{ role, content }]`. */
export function parseConversation(text: string): Conversation | undefined {
  const t = text.trimStart()
  if (!t.startsWith("{") && !t.startsWith("[")) return undefined
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return undefined
  }
  const messages = Array.isArray(v) ? v : typeof v === "object" && v !== null && Array.isArray((v as { messages?: unknown }).messages) ? (v as { messages: unknown[] }).messages : undefined
  if (!messages || messages.length === 0) return undefined
  const turns: Turn[] = []
  for (const m of messages) {
    if (typeof m !== "object" || m === null) return undefined
    const { role, content } = m as { role?: unknown; content?: unknown }
    if (typeof role !== "string") return undefined
    turns.push({ role, content: typeof content === "string" ? content : JSON.stringify(content ?? "") })
  }
  const system = !Array.isArray(v) ? (v as { system?: unknown }).system : undefined
  return { system: typeof system === "string" ? system : undefined, messages: turns }
}

export const conversationText = (c: Conversation): string => JSON.stringify(c.system === undefined ? { messages: c.messages } : { system: c.system, messages: c.messages })

const FILE = /(?:^|[\s("'`])((?:[\w.-]+\/)*[\w.-]+\.(?:ts|tsx|js|mjs|py|go|rs|java|rb|c|h|cpp|md|json|toml|yaml|yml|sql|sh))\b/g
const TOOL = /\b(?:tool_use|tool|called|calling)[:\s]+["'`]?([\w.-]{3,60})/gi

function gist(t: Turn): string {
  const first = t.content.split("\n").find((l) => l.trim() !== "")?.trim() ?? ""
  const line = first.length > 160 ? `${first.slice(0, 157)}…` : first
  const files = [...new Set([...t.content.matchAll(FILE)].map((m) => m[1]!))].slice(0, 6)
  const tools = [...new Set([...t.content.matchAll(TOOL)].map((m) => m[1]!))].slice(0, 4)
  const lines = t.content.split("\n").length
  return `- ${t.role}: ${line}${lines > 1 ? ` (${lines} lines)` : ""}${tools.length ? `; tools: ${tools.join(", ")}` : ""}${files.length ? `; files: ${files.join(", ")}` : ""}`
}

export type HistoryResult = { conversation: Conversation; folded: number; kept: number; tokensFolded: number }

export function foldHistory(c: Conversation, est: Estimator, opts: { budgetTokens?: number; keepRecent?: number } = {}): HistoryResult {
  const keepRecent = Math.max(1, opts.keepRecent ?? 4)
  const cost = c.messages.map((m) => est.count(m.content) + 4)
  const system = c.system ? est.count(c.system) : 0
  const sum = (from: number) => cost.slice(from).reduce((a, b) => a + b, 0)
  let keep = Math.min(c.messages.length, keepRecent)
  const budget = opts.budgetTokens
  if (budget !== undefined) {
    // The newest turns that fit, leaving a fifth of the budget for the summary; fewer than keepRecent (but one) when even those do not fit.
    const room = budget * 0.8
    while (keep > 1 && system + sum(c.messages.length - keep) > room) keep--
    while (keep < c.messages.length && system + sum(c.messages.length - keep - 1) <= room) keep++
  }
  const cut = c.messages.length - keep
  if (cut < 2) return { conversation: c, folded: 0, kept: c.messages.length, tokensFolded: 0 }
  const old = c.messages.slice(0, cut)
  const folded = sum(0) - sum(cut)
  const head = `[Summary of the ${cut} earlier turns of this conversation (${folded.toLocaleString("en-US")} tokens), folded to save context:`
  // Within a budget the summary gets what the kept turns left; the newest folded turns are told first to go.
  let room = budget === undefined ? Infinity : budget - system - sum(cut) - est.count(head) - 16
  const gists: string[] = []
  for (let i = old.length - 1; i >= 0; i--) {
    const g = gist(old[i]!)
    const t = est.count(g) + 1
    if (t > room) {
      gists.unshift(`- (${i + 1} earlier turns not described)`)
      break
    }
    room -= t
    gists.unshift(g)
  }
  const summary: Turn = { role: "user", content: [head, ...gists, "]"].join("\n") }
  const recent = c.messages.slice(cut)
  // Roles must keep alternating for the Messages API: a summary (user) before a user turn is merged into it.
  const messages = recent[0]?.role === "user" ? [{ role: "user", content: `${summary.content}\n\n${recent[0].content}` }, ...recent.slice(1)] : [summary, ...recent]
  return { conversation: { system: c.system, messages }, folded: cut, kept: keep, tokensFolded: folded }
}
