import { words } from "../embeddings/hash"
import { TEXT_DIMS } from "./features"

// The text half of a task's routing features. The lexical vector (hashed
// words and character trigrams, TEXT_DIMS wide) costs microseconds and is
// always available; a learned router with a semantic embedder stores its own
// vector in the task's metadata at creation (src/rl/text.ts) and that wins.

export const LEXICAL_SPACE = `words:w1/${TEXT_DIMS}`

export function taskText(t: { description: string; prompt?: string | null }): string {
  return t.prompt ? `${t.description}\n${t.prompt}` : t.description
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * Hashed words (a signed bucket per word, stop words dropped, identifiers
 * split), scaled to unit length. Words only, no character trigrams: with
 * TEXT_DIMS buckets, trigrams mostly add collisions that a linear model
 * must then learn around.
 */
export function lexicalVector(text: string): number[] {
  const v = new Float64Array(TEXT_DIMS)
  const seen = new Set<string>()
  for (const w of words(text)) {
    if (seen.has(w)) continue
    seen.add(w)
    const h = fnv1a(w)
    v[h % TEXT_DIMS]! += (h >>> 31) & 1 ? 1 : -1
  }
  let n = 0
  for (const x of v) n += x * x
  const s = n > 0 ? 1 / Math.sqrt(n) : 0
  return Array.from(v, (x) => Math.round(x * s * 1e4) / 1e4)
}

/**
 * A rough size of the job in [0, 1], from what can be seen before running
 * it: length, enumerated steps, files and code named. Not a prediction of
 * difficulty; a feature the learned router may weigh or ignore.
 */
export function complexity(text: string): number {
  const chars = Math.min(1, Math.log10(1 + text.length) / 4)
  const steps = Math.min(1, (text.match(/^\s*(?:[-*•]|\d+[.)])\s+/gm)?.length ?? 0) / 8)
  const files = Math.min(1, (text.match(/\b[\w./-]+\.(?:ts|tsx|js|jsx|py|go|rs|java|rb|css|html|sql|md|json|ya?ml|toml)\b/g)?.length ?? 0) / 6)
  const code = /```|`[^`]+`/.test(text) ? 1 : 0
  const clauses = Math.min(1, (text.match(/\b(and|then|also|after|before|while)\b/gi)?.length ?? 0) / 8)
  return Math.round((0.35 * chars + 0.2 * steps + 0.2 * files + 0.1 * code + 0.15 * clauses) * 1e4) / 1e4
}
