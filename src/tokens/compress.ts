import { sections, type ContentKind, type Section } from "./kinds"
import type { Estimator, Hint } from "./estimate"
import type { LanguageName } from "../treesitter/grammars"
import { skeleton, stripComments } from "./strategies/code"
import { conversationText, foldHistory, parseConversation, type Conversation } from "./strategies/history"
import { deduplicate, headTail, whitespace } from "./strategies/text"
import { errorCount, withTree } from "../treesitter/parser"

// Compression: the strategies run in a fixed order, lossless ones first
// (deduplicate, code_comments, whitespace), then the lossy ones (summarize,
// history) only where they were asked for or a target needs them. Every
// step's saving is measured by counting before and after it, never guessed.

export const STRATEGIES = ["deduplicate", "code_comments", "whitespace", "summarize", "history"] as const
export type StrategyName = (typeof STRATEGIES)[number]
export const LOSSY: ReadonlySet<StrategyName> = new Set(["summarize", "history"])
export const MAX_TARGET = 0.95

export type CompressOptions = Hint & {
  strategies?: readonly StrategyName[]
  /** Share of the tokens to remove (0..0.95): lossy strategies run until it is reached. */
  targetReduction?: number
  /** Tokens the result must fit in: lossy strategies run until it does. */
  budgetTokens?: number
  keepDocComments?: boolean
  /** Texts the reader already has: blocks repeated from them become references (deduplicate). */
  contexts?: readonly string[]
  /** history: turns always kept (default 4). */
  keepRecent?: number
}

export type StrategyReport = {
  strategy: StrategyName
  lossy: boolean
  tokens_before: number
  tokens_after: number
  tokens_saved: number
  /** What was removed or replaced, in words. */
  cut: string[]
  notes?: string[]
}

export type CompressResult = {
  content: string
  tokens_before: number
  tokens_after: number
  tokens_saved: number
  reduction: number
  strategies: StrategyReport[]
  /** A lossy strategy changed the content. */
  lossy: boolean
  /** Parse errors the result has that the input did not (code sections; 0 by construction). */
  parse_errors_introduced: number
  goal: { target_reduction?: number; budget_tokens?: number; goal_tokens?: number; met: boolean }
}

type Part = { fixed: string } | { section: Section; text: string }

function split(text: string, hint: Hint): Part[] {
  const parts: Part[] = []
  let at = 0
  for (const s of sections(text, hint)) {
    const start = s.fence ? s.start - s.fence.open.length : s.start
    if (start > at) parts.push({ fixed: text.slice(at, start) })
    if (s.fence) parts.push({ fixed: s.fence.open })
    parts.push({ section: s, text: s.text })
    if (s.fence) parts.push({ fixed: s.fence.close })
    at = s.end + (s.fence ? s.fence.close.length : 0)
  }
  if (at < text.length) parts.push({ fixed: text.slice(at) })
  return parts
}

const join = (parts: Part[]) => parts.map((p) => ("fixed" in p ? p.fixed : p.text)).join("")
const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`

type Step = { cut: string[]; notes: string[]; parseErrorsAdded: number }

async function runOnParts(name: StrategyName, parts: Part[], opts: CompressOptions, seen: Map<string, string>): Promise<Step> {
  const step: Step = { cut: [], notes: [], parseErrorsAdded: 0 }
  const counts = { comments: 0, docKept: 0, lines: 0, blocks: 0, cross: 0, bodies: 0, bodyLines: 0, logLines: 0, logChars: 0, reverted: 0 }
  for (const p of parts) {
    if ("fixed" in p) continue
    const { kind, language } = p.section
    switch (name) {
      case "whitespace":
        p.text = whitespace(p.text, kind)
        break
      case "deduplicate": {
        const r = deduplicate(p.text, { kind, language, contexts: opts.contexts, seen })
        if (r.text === p.text) break
        // A block cut out of code can take a closing brace with it: code whose parse errors would grow keeps its repeats.
        if (kind === "code" && language) {
          const [before, after] = [await withTree(p.text, language, errorCount), await withTree(r.text, language, errorCount)]
          if (after > before) {
            step.notes.push(`folding repeats would add ${after - before} parse error(s) to this ${language} code; left as it was`)
            break
          }
        }
        p.text = r.text
        counts.lines += r.repeatedLines
        counts.blocks += r.repeatedBlocks
        counts.cross += r.crossContext
        break
      }
      case "code_comments": {
        if (kind !== "code" || !language) break
        const r = await stripComments(p.text, language, { keepDocComments: opts.keepDocComments })
        p.text = r.text
        counts.comments += r.changed
        counts.docKept += r.docKept
        if (r.note) step.notes.push(r.note)
        step.parseErrorsAdded += Math.max(0, r.errorsAfter - r.errorsBefore)
        break
      }
      case "summarize": {
        if (kind === "code" && language) {
          const r = await skeleton(p.text, language)
          p.text = r.text
          counts.bodies += r.bodies
          counts.bodyLines += r.linesCut
          if (r.note) step.notes.push(r.note)
          step.parseErrorsAdded += Math.max(0, r.errorsAfter - r.errorsBefore)
        } else if (kind === "logs") {
          const r = headTail(p.text)
          p.text = r.text
          counts.logLines += r.linesCut
          counts.logChars += r.charsCut
        }
        break
      }
      case "history":
        break
    }
  }
  if (counts.comments) step.cut.push(`${plural(counts.comments, "comment")} removed${counts.docKept ? ` (${plural(counts.docKept, "doc comment")} kept)` : ""}`)
  if (counts.lines) step.cut.push(`${plural(counts.lines, "repeated line")} folded into counts`)
  if (counts.blocks) step.cut.push(`${plural(counts.blocks, "repeated block")} replaced by references`)
  if (counts.cross) step.cut.push(`${plural(counts.cross, "block")} already in the given contexts replaced by references`)
  if (counts.bodies) step.cut.push(`${plural(counts.bodies, "function body", "function bodies")} (${plural(counts.bodyLines, "line")}) cut to signatures`)
  if (counts.logLines) step.cut.push(`${plural(counts.logLines, "log line")} (${plural(counts.logChars, "character")}) cut from the middle of long output`)
  return step
}

/** Which strategies run, and which of them only when the goal is not met yet. */
function plan(opts: CompressOptions): { always: StrategyName[]; ifNeeded: StrategyName[] } {
  const asked = opts.strategies && opts.strategies.length > 0 ? STRATEGIES.filter((s) => opts.strategies!.includes(s)) : undefined
  const hasGoal = opts.targetReduction !== undefined || opts.budgetTokens !== undefined
  const chosen = asked ?? [...STRATEGIES]
  const lossless = chosen.filter((s) => !LOSSY.has(s))
  const lossy = chosen.filter((s) => LOSSY.has(s))
  if (hasGoal) return { always: lossless, ifNeeded: lossy }
  return asked ? { always: chosen, ifNeeded: [] } : { always: lossless, ifNeeded: [] }
}

export async function compress(content: string, est: Estimator, opts: CompressOptions = {}): Promise<CompressResult> {
  const conversation = opts.kind ? undefined : parseConversation(content)
  // A conversation is counted turn by turn (its JSON escapes would count double), with a few tokens a turn for the framing.
  const countConv = (c: Conversation) => (c.system ? est.count(c.system) : 0) + c.messages.reduce((n, m) => n + est.count(m.content) + 4, 0)
  const before = conversation ? countConv(conversation) : est.count(content, opts)
  let goal: number | undefined
  if (opts.targetReduction !== undefined) goal = Math.floor(before * (1 - opts.targetReduction))
  if (opts.budgetTokens !== undefined) goal = Math.min(goal ?? Infinity, opts.budgetTokens)
  const { always, ifNeeded } = plan(opts)
  const reports: StrategyReport[] = []
  let parseErrors = 0
  const seen = new Map<string, string>()

  // A conversation: each turn is compressed as a text of its own (repeats across turns found by one `seen`), history folds the old ones.
  let conv: Conversation | undefined = conversation
  let docs: Part[][] = conv ? [...(conv.system ? [conv.system] : []), ...conv.messages.map((m) => m.content)].map((t) => split(t, {})) : [split(content, opts)]
  const render = (): string => {
    if (!conv) return join(docs[0]!)
    const texts = docs.map(join)
    const system = conv.system !== undefined ? texts.shift() : undefined
    return conversationText({ system, messages: conv.messages.map((m, i) => ({ role: m.role, content: texts[i]! })) })
  }
  const count = (text: string) => {
    if (!conv) return est.count(text, opts)
    const texts = docs.map(join)
    return texts.reduce((n, t) => n + est.count(t), 0) + 4 * (texts.length - (conv.system !== undefined ? 1 : 0))
  }
  let current = before
  for (const name of [...always, ...ifNeeded]) {
    const lossy = LOSSY.has(name)
    if (ifNeeded.includes(name) && goal !== undefined && current <= goal) break
    const tokensBefore = current
    const step: Step = { cut: [], notes: [], parseErrorsAdded: 0 }
    if (name === "history") {
      if (!conv) {
        reports.push({ strategy: name, lossy, tokens_before: tokensBefore, tokens_after: tokensBefore, tokens_saved: 0, cut: [], notes: ["not a conversation: history folds a JSON conversation ({ system?, messages: [{ role, content }] })"] })
        continue
      }
      conv = { system: conv.system, messages: conv.messages.map((m, i) => ({ role: m.role, content: join(docs[i + (conv!.system !== undefined ? 1 : 0)]!) })) }
      const r = foldHistory(conv, est, { budgetTokens: goal, keepRecent: opts.keepRecent })
      if (r.folded > 0) step.cut.push(`${plural(r.folded, "older turn")} (${plural(r.tokensFolded, "token")}) folded into a summary; ${plural(r.kept, "recent turn")} and the system prompt kept`)
      conv = r.conversation
      docs = [...(conv.system !== undefined ? [conv.system] : []), ...conv.messages.map((m) => m.content)].map((t) => [{ fixed: t }])
    } else {
      // Summarize on a conversation leaves the newest turns whole: they are what the model works on.
      const sys = conv?.system !== undefined ? 1 : 0
      const targets = conv && name === "summarize" ? docs.slice(sys, Math.max(sys, docs.length - (opts.keepRecent ?? 4))) : docs
      for (const d of targets) {
        const s = await runOnParts(name, d, opts, seen)
        step.cut.push(...s.cut)
        step.notes.push(...s.notes)
        step.parseErrorsAdded += s.parseErrorsAdded
      }
    }
    parseErrors += step.parseErrorsAdded
    current = count(render())
    reports.push({ strategy: name, lossy, tokens_before: tokensBefore, tokens_after: current, tokens_saved: tokensBefore - current, cut: [...new Set(step.cut)], ...(step.notes.length ? { notes: step.notes } : {}) })
  }
  const out = render()
  const after = count(out)
  return {
    content: out,
    tokens_before: before,
    tokens_after: after,
    tokens_saved: before - after,
    reduction: before > 0 ? (before - after) / before : 0,
    strategies: reports,
    lossy: reports.some((r) => r.lossy && r.tokens_saved !== 0),
    parse_errors_introduced: parseErrors,
    goal: { target_reduction: opts.targetReduction, budget_tokens: opts.budgetTokens, goal_tokens: goal, met: goal === undefined || after <= goal },
  }
}

export type { ContentKind, LanguageName }
