import { languageForPath } from "../treesitter/languages"
import type { LanguageName } from "../treesitter/grammars"

// What a text is made of. A prompt mixes prose, fenced code, pasted logs and
// tool output, and JSON; each packs a different number of characters into a
// token and each has its own ways to shrink, so everything in src/tokens
// works on sections of one kind.

export const CONTENT_KINDS = ["code", "prose", "json", "logs"] as const
export type ContentKind = (typeof CONTENT_KINDS)[number]

export type Section = {
  kind: ContentKind
  /** The grammar for code, when known (a fence's info string, a path, or a guess). */
  language?: LanguageName
  /** Offsets into the whole text. */
  start: number
  end: number
  text: string
  /** A fenced block: `text` is its body; the fence lines are kept around it by the compressors. */
  fence?: { open: string; close: string }
}

const FENCE_LANGS: Record<string, LanguageName> = {
  ts: "typescript", typescript: "typescript", tsx: "tsx", js: "javascript", javascript: "javascript", jsx: "javascript", mjs: "javascript",
  py: "python", python: "python", go: "go", golang: "go", rs: "rust", rust: "rust", java: "java", c: "c", h: "c", cpp: "cpp", "c++": "cpp",
  cs: "csharp", csharp: "csharp", rb: "ruby", ruby: "ruby", php: "php", sh: "bash", bash: "bash", shell: "bash", zsh: "bash", css: "css",
}

/** The grammar a fence's info string (```ts, ```python title=x) or a file path names. */
export function languageOf(tag: string | undefined): LanguageName | undefined {
  if (!tag) return undefined
  const t = tag.trim().split(/\s+/)[0]!.toLowerCase()
  return FENCE_LANGS[t] ?? (t.includes(".") ? languageForPath(t) : undefined)
}

const LOG_LINE = /^(\s*\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\s*\[?\d{2}:\d{2}:\d{2}|\s*(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)\b|\s+at .+[(:]\d+|\s*(npm|yarn|pnpm) (ERR|WARN)|\s*Traceback |\s*File ".+", line \d+|\s*[A-Z][a-zA-Z]*(Error|Exception):|\s*\$ |\s*[✓✗✔✘×]\s|\s*(PASS|FAIL)\s)/
const CODE_LINE = /(^\s*(import|export|from|const|let|var|function|class|interface|type|def|return|if|else|elif|for|while|switch|case|struct|enum|impl|fn|pub|package|func|public|private|protected|static|async|await|try|catch|except|#include|using|namespace)\b)|([;{}]\s*$)|(^\s*[}\])]+[;,)]*\s*$)|(=>)|(^\s*(\/\/|#!|\/\*|\*)\s?)/

function looksLikeJson(text: string): boolean {
  const t = text.trim()
  if (!((t.startsWith("{") && t.endsWith("}")) || (t.startsWith("[") && t.endsWith("]")))) return false
  if (t.length > 200_000) return /^[[{]\s*("|\{|\[|\d|-|true|false|null)/.test(t)
  try {
    JSON.parse(t)
    return true
  } catch {
    return false
  }
}

/** The kind of one unfenced paragraph, by the share of its lines that look like logs or code. */
export function classifyBlock(text: string): ContentKind {
  if (looksLikeJson(text)) return "json"
  const lines = text.split("\n").filter((l) => l.trim() !== "")
  if (lines.length === 0) return "prose"
  let log = 0
  let code = 0
  for (const l of lines) {
    if (LOG_LINE.test(l)) log++
    else if (CODE_LINE.test(l)) code++
  }
  if (log / lines.length >= 0.4) return "logs"
  if (code / lines.length >= 0.4) return "code"
  return "prose"
}

/** A code guess for an unfenced code paragraph, from telling keywords (undefined: no grammar). */
export function guessLanguage(text: string): LanguageName | undefined {
  if (/^\s*(def |class \w+(\(.*\))?:|from \w[\w.]* import |import \w+\s*$)/m.test(text) && !/[;{]\s*$/m.test(text)) return "python"
  if (/^\s*(interface |type \w+ = |export (type|interface) )|: (string|number|boolean)\b/m.test(text)) return "typescript"
  if (/^\s*(func |package \w+)/m.test(text)) return "go"
  if (/^\s*(fn |impl |pub (fn|struct)|use \w+::)/m.test(text)) return "rust"
  if (/^\s*(const|let|var|function|import|export)\b|=>/m.test(text)) return "javascript"
  return undefined
}

/**
 * Split a text into sections: fenced code blocks (by their info string) and,
 * between them, runs of paragraphs of one kind. With `kind` the whole text is
 * one section of that kind (`language` or `path` names the grammar for code).
 */
export function sections(text: string, hint: { kind?: ContentKind; language?: LanguageName; path?: string } = {}): Section[] {
  if (hint.kind) {
    const language = hint.kind === "code" ? (hint.language ?? (hint.path ? languageForPath(hint.path) : undefined) ?? guessLanguage(text)) : undefined
    return [{ kind: hint.kind, language, start: 0, end: text.length, text }]
  }
  const out: Section[] = []
  const fence = /^(\s{0,3})(```+|~~~+)([^\n`]*)\n([\s\S]*?)\n\1\2[ \t]*$/gm
  let at = 0
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    if (m.index > at) paragraphs(text, at, m.index, out)
    const open = `${m[1]}${m[2]}${m[3]}\n`
    const bodyStart = m.index + open.length
    const body = m[4]!
    const tag = m[3]!.trim()
    const lang = languageOf(tag)
    const kind: ContentKind = lang ? "code" : tag === "json" ? "json" : tag === "log" || tag === "logs" || tag === "text" || tag === "console" ? (classifyBlock(body) === "logs" ? "logs" : "prose") : classifyBlock(body) === "prose" ? "code" : classifyBlock(body)
    out.push({ kind, language: kind === "code" ? (lang ?? guessLanguage(body)) : undefined, start: bodyStart, end: bodyStart + body.length, text: body, fence: { open, close: `\n${m[1]}${m[2]}` } })
    at = m.index + m[0].length
  }
  if (at < text.length) paragraphs(text, at, text.length, out)
  return out
}

/** Paragraphs of text[from, to), merged while consecutive ones share a kind. */
function paragraphs(text: string, from: number, to: number, out: Section[]): void {
  const re = /\n[ \t]*\n/g
  re.lastIndex = from
  let start = from
  const push = (s: number, e: number) => {
    const t = text.slice(s, e)
    if (t.trim() === "") {
      const last = out.at(-1)
      if (last && !last.fence && last.end === s) (last.end = e), (last.text = text.slice(last.start, e))
      else out.push({ kind: "prose", start: s, end: e, text: t })
      return
    }
    const kind = classifyBlock(t)
    const last = out.at(-1)
    if (last && !last.fence && last.kind === kind && last.end === s) {
      last.end = e
      last.text = text.slice(last.start, e)
      if (kind === "code") last.language ??= guessLanguage(t)
    } else out.push({ kind, language: kind === "code" ? guessLanguage(t) : undefined, start: s, end: e, text: t })
  }
  for (let m = re.exec(text); m && m.index < to; m = re.exec(text)) {
    const e = Math.min(to, m.index + m[0].length)
    push(start, e)
    start = e
  }
  if (start < to) push(start, to)
}
