// Pattern matching for every governance list (blocks, allowlists, delegation,
// exceptions): glob (`*`, `?`, `[...]`, `[!...]`) on trimmed, Unicode-casefolded
// strings. Compiled patterns are cached: explain matches 1,000 plugins against
// the same few patterns.

const ASCII = /^[\x00-\x7f]*$/

/** Unicode case folding: NFKC, then upper then lower (so ß and SS both fold to ss). */
export function casefold(s: string): string {
  const t = s.trim()
  // ASCII is NFKC-stable and upper-then-lower is plain lower there; this path is ~10x cheaper.
  if (ASCII.test(t)) return t.toLowerCase()
  return t.normalize("NFKC").toUpperCase().toLowerCase()
}

const compiled = new Map<string, RegExp>()

function compile(pattern: string): RegExp {
  let re = compiled.get(pattern)
  if (re) return re
  const p = casefold(pattern)
  let out = "^"
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!
    if (c === "*") out += "[\\s\\S]*"
    else if (c === "?") out += "[\\s\\S]"
    else if (c === "[") {
      const close = p.indexOf("]", i + 2)
      if (close === -1) out += "\\["
      else {
        let body = p.slice(i + 1, close)
        const negate = body.startsWith("!") || body.startsWith("^")
        if (negate) body = body.slice(1)
        body = body.replace(/[\\\]^]/g, (m) => `\\${m}`)
        out += negate ? `[^${body}]` : `[${body}]`
        i = close
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")
  }
  re = new RegExp(`${out}$`, "u")
  compiled.set(pattern, re)
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
 * The first pattern (as written) matching any of `folded` (values already
 * casefolded, tried in order: every pattern against the first value, then the
 * second...). `rewrite` maps a pattern to the form it is matched in (image
 * patterns drop Docker Hub's default registry); the original is returned.
 */
export function firstMatchFolded(folded: readonly string[], patterns: readonly string[], rewrite?: (p: string) => string): string | undefined {
  if (patterns.length === 0) return undefined
  for (const value of folded) {
    for (const p of patterns) if (compile(rewrite ? rewrite(p) : p).test(value)) return p
  }
  return undefined
}
