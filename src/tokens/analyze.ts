import { compress, STRATEGIES, LOSSY, type StrategyName } from "./compress"
import { effectiveChars, type Estimator, type Hint } from "./estimate"
import { sections } from "./kinds"
import { stripComments } from "./strategies/code"
import { parseConversation } from "./strategies/history"

// Where a text's tokens go: an estimate with a breakdown by section, what
// repeats, the share of comments (tree-sitter), long lines and blobs
// (base64, minified code), and what each strategy would save, found by
// running it on the text.

const BASE64 = /[A-Za-z0-9+/]{200,}={0,2}/g
const LONG_LINE = 500

export type Analysis = Awaited<ReturnType<typeof analyze>>

export async function analyze(content: string, est: Estimator, hint: Hint = {}) {
  const secs = sections(content, hint)
  const bySection = secs.map((s) => ({ kind: s.kind, ...(s.language ? { language: s.language } : {}), start: s.start, end: s.end, characters: s.end - s.start, tokens: est.countSection(s, content) }))
  const byKind: Record<string, number> = {}
  const byLanguage: Record<string, number> = {}
  for (const s of bySection) {
    byKind[s.kind] = (byKind[s.kind] ?? 0) + s.tokens
    if (s.language) byLanguage[s.language] = (byLanguage[s.language] ?? 0) + s.tokens
  }
  const tokens = est.count(content, hint)

  // Repetition: lines seen before (non-blank, 8+ characters), and paragraphs of 3+ lines seen before.
  const lineSeen = new Set<string>()
  let repeatedLines = 0
  let repeatedLineChars = 0
  let longLines = 0
  let longest = 0
  for (const l of content.split("\n")) {
    if (l.length > LONG_LINE) longLines++
    longest = Math.max(longest, l.length)
    const k = l.trim()
    if (k.length < 8) continue
    if (lineSeen.has(k)) (repeatedLines++, (repeatedLineChars += effectiveChars(l) + 1))
    else lineSeen.add(k)
  }
  const blockSeen = new Set<string>()
  let repeatedBlocks = 0
  let repeatedBlockChars = 0
  for (const b of content.split(/\n[ \t]*\n/)) {
    const k = b.trim()
    if (k.split("\n").length < 3) continue
    if (blockSeen.has(k)) (repeatedBlocks++, (repeatedBlockChars += effectiveChars(b)))
    else blockSeen.add(k)
  }
  const perToken = tokens > 0 ? effectiveChars(content) / tokens : 4

  // Comments: what stripping them takes out of the code sections.
  let commentTokens = 0
  let codeTokens = 0
  for (const s of secs) {
    if (s.kind !== "code" || !s.language) continue
    const t = est.countSection(s, content)
    codeTokens += t
    const r = await stripComments(s.text, s.language)
    commentTokens += Math.max(0, t - est.count(r.text, { kind: "code" }))
  }

  const blobs: { kind: "base64" | "minified"; start: number; characters: number; tokens: number }[] = []
  for (const m of content.matchAll(BASE64)) blobs.push({ kind: "base64", start: m.index, characters: m[0].length, tokens: est.count(m[0], { kind: "json" }) })
  let at = 0
  for (const l of content.split("\n")) {
    if (l.length > 2000 && /[;{}(),]/.test(l) && l.split(/\s/).length < l.length / 40 && !blobs.some((b) => b.start >= at && b.start < at + l.length)) blobs.push({ kind: "minified", start: at, characters: l.length, tokens: est.count(l, { kind: "code" }) })
    at += l.length + 1
  }

  const conversation = hint.kind ? undefined : parseConversation(content) !== undefined
  const strategies = []
  for (const s of STRATEGIES as readonly StrategyName[]) {
    if (s === "history" && !conversation) {
      strategies.push({ strategy: s, lossy: true, tokens_saved: 0, reduction: 0, cut: [], notes: ["not a conversation"] })
      continue
    }
    const r = await compress(content, est, { ...hint, strategies: [s] })
    const rep = r.strategies[0]
    strategies.push({ strategy: s, lossy: LOSSY.has(s), tokens_saved: r.tokens_saved, reduction: r.reduction, cut: rep?.cut ?? [], ...(rep?.notes ? { notes: rep.notes } : {}) })
  }
  const lossless = await compress(content, est, hint)

  return {
    tokens,
    characters: content.length,
    model: est.calibration.model,
    estimator: { samples: est.calibration.samples, error: est.calibration.error, chars_per_token: est.calibration.charsPerToken },
    sections: bySection,
    by_kind: byKind,
    by_language: byLanguage,
    findings: {
      repeated_lines: { count: repeatedLines, tokens: Math.round(repeatedLineChars / perToken) },
      repeated_blocks: { count: repeatedBlocks, tokens: Math.round(repeatedBlockChars / perToken) },
      comments: { tokens: commentTokens, share_of_code: codeTokens > 0 ? commentTokens / codeTokens : 0, share: tokens > 0 ? commentTokens / tokens : 0 },
      long_lines: { count: longLines, longest, threshold: LONG_LINE },
      blobs,
    },
    strategies,
    /** All lossless strategies together. */
    lossless: { tokens_saved: lossless.tokens_saved, reduction: lossless.reduction },
  }
}
