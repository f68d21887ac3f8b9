import type { ContentKind } from "../kinds"
import type { LanguageName } from "../../treesitter/grammars"
import { lineComment } from "./code"

// The strategies that need no parser: whitespace, repetition, and long logs
// cut to their head and tail.

/**
 * Lossless whitespace: trailing blanks, runs of blank lines (one is kept),
 * runs of spaces inside prose lines, and JSON outside its strings. Leading
 * indentation of code and logs stays (Python and YAML mean it).
 */
export function whitespace(text: string, kind: ContentKind): string {
  if (kind === "json") return minifyJson(text)
  let out = text.replace(/[ \t]+(?=\r?\n|$)/g, "").replace(/(\r?\n){3,}/g, "\n\n")
  if (kind === "prose") out = out.replace(/(?<=\S)[ \t]{2,}(?=\S)/g, " ")
  return out
}

/** JSON without the blanks outside strings (numbers and strings untouched, so nothing is lost). */
export function minifyJson(text: string): string {
  let out = ""
  let inString = false
  let from = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped char
      else if (c === 34) inString = false
      continue
    }
    if (c === 34) inString = true
    else if (c === 32 || c === 9 || c === 10 || c === 13) {
      out += text.slice(from, i)
      from = i + 1
    }
  }
  return out + text.slice(from)
}

export type DedupeResult = { text: string; repeatedLines: number; repeatedBlocks: number; crossContext: number }

const blockKey = (b: string) => b.replace(/[ \t]+$/gm, "").trim()

/**
 * Repetition, told once: a line repeated right after itself becomes the line
 * and a count; a block (paragraph) of 3+ lines or 200+ characters seen
 * before, in this text or in one of `contexts` (what the reader already
 * has), becomes a reference to where it was. No information is lost: every
 * marker says what it stands for. In code the markers are comments, and
 * blocks are only replaced when the grammar is known.
 */
export function deduplicate(text: string, opts: { kind: ContentKind; language?: LanguageName; contexts?: readonly string[]; seen?: Map<string, string> }): DedupeResult {
  const comment = opts.kind === "code" ? (opts.language ? lineComment(opts.language) : undefined) : ""
  let repeatedLines = 0
  const lines = text.split("\n")
  const kept: string[] = []
  for (let i = 0; i < lines.length; ) {
    let j = i + 1
    while (j < lines.length && lines[j] === lines[i]) j++
    kept.push(lines[i]!)
    const n = j - i - 1
    if (n >= 2 && lines[i]!.trim() !== "" && comment !== undefined) {
      kept.push(`${comment ? `${comment} ` : ""}[previous line repeated ${n} more times]`)
      repeatedLines += n
    } else for (let k = i + 1; k < j; k++) kept.push(lines[k]!)
    i = j
  }
  let out = kept.join("\n")

  const seen = opts.seen ?? new Map<string, string>()
  let crossContext = 0
  opts.contexts?.forEach((ctx, i) => {
    for (const b of ctx.split(/\n[ \t]*\n/)) {
      const k = blockKey(b)
      if (k && !seen.has(k)) seen.set(k, `context #${i + 1}`)
    }
  })
  let repeatedBlocks = 0
  if (comment !== undefined) {
    const parts = out.split(/(\n[ \t]*\n)/)
    let index = 0
    for (let p = 0; p < parts.length; p += 2) {
      const b = parts[p]!
      const k = blockKey(b)
      index++
      if (!k || (k.split("\n").length < 3 && k.length < 200)) continue
      const where = seen.get(k)
      if (where === undefined) {
        seen.set(k, `block ${index} above`)
        continue
      }
      const first = k.split("\n")[0]!.slice(0, 80)
      parts[p] = `${comment ? `${comment} ` : ""}[same ${k.split("\n").length} lines as ${where}, starting "${first}"]`
      if (where.startsWith("context")) crossContext++
      else repeatedBlocks++
    }
    out = parts.join("")
  }
  return { text: out, repeatedLines, repeatedBlocks, crossContext }
}

const IMPORTANT = /\b(ERROR|FATAL|CRITICAL|FAIL(ED)?|Exception|Traceback|panic|error TS\d+|Error:)/

export type LogSummary = { text: string; linesCut: number; charsCut: number; keptImportant: number }

/**
 * Long logs and tool output: the first `head` and last `tail` lines, the
 * middle's error lines (up to 20), and one marker counting what was cut.
 * Lossy, and says so.
 */
export function headTail(text: string, opts: { head?: number; tail?: number } = {}): LogSummary {
  const head = opts.head ?? 30
  const tail = opts.tail ?? 30
  const lines = text.split("\n")
  if (lines.length <= head + tail + 10) return { text, linesCut: 0, charsCut: 0, keptImportant: 0 }
  const middle = lines.slice(head, lines.length - tail)
  const important = middle.filter((l) => IMPORTANT.test(l)).slice(0, 20)
  const cut = middle.length - important.length
  const charsCut = middle.reduce((n, l) => n + l.length + 1, 0) - important.reduce((n, l) => n + l.length + 1, 0)
  const marker = `[… ${cut.toLocaleString("en-US")} lines (${charsCut.toLocaleString("en-US")} characters) cut${important.length ? `; ${important.length} error lines from them kept below` : ""} …]`
  return { text: [...lines.slice(0, head), marker, ...important, ...lines.slice(lines.length - tail)].join("\n"), linesCut: cut, charsCut, keptImportant: important.length }
}
