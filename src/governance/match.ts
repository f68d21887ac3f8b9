// Pattern matching for every governance list (blocks, allowlists, delegation,
// exceptions): glob (`*`, `?`, `[...]`, `[!...]`) on trimmed, Unicode-casefolded
// strings. Compiled patterns are cached: explain matches 1,000 plugins against
// the same few patterns.

const ASCII = /^[\x00-\x7f]*$/

export const isAscii = (s: string): boolean => ASCII.test(s)

/** Unicode case folding: NFKC, then upper then lower (so ß and SS both fold to ss). */
export function casefold(s: string): string {
  const t = s.trim()
  // ASCII is NFKC-stable and upper-then-lower is plain lower there; this path is ~10x cheaper.
  if (ASCII.test(t)) return t.toLowerCase()
  return t.normalize("NFKC").toUpperCase().toLowerCase()
}

const compiled = new Map<string, RegExp>()
const SPECIAL = "\\^$.*+?()[]{}|/"

/** The anchored regex source of a glob, from its casefolded form. Plain string work: it runs cold. */
function toSource(pattern: string): string {
  const p = casefold(pattern)
  let out = "^"
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!
    if (c === "*") out += "[\\s\\S]*"
    else if (c === "?") out += "[\\s\\S]"
    else if (c === "[" && p.indexOf("]", i + 2) !== -1) {
      const close = p.indexOf("]", i + 2)
      let body = p.slice(i + 1, close)
      const negate = body[0] === "!" || body[0] === "^"
      if (negate) body = body.slice(1)
      let cls = ""
      for (const b of body) cls += b === "\\" || b === "]" || b === "^" ? `\\${b}` : b
      out += negate ? `[^${cls}]` : `[${cls}]`
      i = close
    } else out += SPECIAL.includes(c) ? `\\${c}` : c
  }
  return `${out}$`
}

/**
 * Only `?` and `[...]` need the `u` flag (so one astral character counts as
 * one); without it a regex compiles in about half the time, and `*` and
 * literals match the same either way.
 */
const flags = (pattern: string) => (pattern.includes("?") || pattern.includes("[") ? "u" : "")

function compile(pattern: string): RegExp {
  let re = compiled.get(pattern)
  if (!re) {
    re = new RegExp(toSource(pattern), flags(pattern))
    compiled.set(pattern, re)
  }
  return re
}

/** Does `value` match the glob `pattern` (both trimmed and casefolded)? */
export function globMatch(value: string, pattern: string): boolean {
  return compile(pattern).test(casefold(value))
}

/** The first pattern (as written) that matches `value`, or undefined. */
export function firstMatch(value: string, patterns: readonly string[]): string | undefined {
  for (const p of patterns) if (globMatch(value, p)) return p
  return undefined
}

/**
 * A pattern list compiled once per merge. Most values match none of a block
 * list's patterns, so one combined regex answers that case in a single test;
 * only a hit looks for which pattern (as written) matched. `rewrite` maps a
 * pattern to the form it is matched in (image patterns drop Docker Hub's
 * default registry).
 */
export class PatternSet {
  private readonly forms: string[]
  private readonly any: RegExp | undefined

  constructor(
    readonly patterns: readonly string[],
    rewrite?: (p: string) => string,
  ) {
    this.forms = rewrite ? patterns.map(rewrite) : [...patterns]
    if (this.forms.length === 1) this.any = compile(this.forms[0]!)
    else if (this.forms.length > 1) {
      // Regex compilation is most of what a cold first call costs, so only the
      // combined regex is built here; single patterns compile on a hit.
      const key = `\0any\0${this.forms.join("\0")}`
      let any = compiled.get(key)
      if (!any) {
        any = new RegExp(this.forms.map((f) => `(?:${toSource(f)})`).join("|"), this.forms.some((f) => flags(f) === "u") ? "u" : "")
        compiled.set(key, any)
      }
      this.any = any
    }
  }

  get size(): number {
    return this.forms.length
  }

  /** The first pattern (as written) matching any of `folded` (casefolded values, tried in order). */
  first(folded: readonly string[]): string | undefined {
    if (this.any === undefined) return undefined
    for (const value of folded) {
      if (!this.any.test(value)) continue
      for (let i = 0; i < this.forms.length; i++) if (compile(this.forms[i]!).test(value)) return this.patterns[i]
    }
    return undefined
  }
}

/** The first pattern (as written) matching any of `folded`; for one-off checks (see PatternSet). */
export function firstMatchFolded(folded: readonly string[], patterns: readonly string[], rewrite?: (p: string) => string): string | undefined {
  return patterns.length === 0 ? undefined : new PatternSet(patterns, rewrite).first(folded)
}
