// The lexical half of the hybrid ranking: shared content words of a query
// and a pattern's "when to use" text, as a Dice coefficient over light stems.

const STOP = new Set(
  "a an and are as at be by do does for from has have how i in into is it its of on or that the this to was we what when where which with you your can should not no use using".split(" "),
)

function stem(w: string): string {
  if (w.length > 5 && w.endsWith("ing")) return w.slice(0, -3)
  if (w.length > 4 && w.endsWith("ed")) return w.slice(0, -2)
  if (w.length > 4 && w.endsWith("es")) return w.slice(0, -2)
  if (w.length > 3 && w.endsWith("s")) return w.slice(0, -1)
  return w
}

export function terms(text: string): Set<string> {
  const out = new Set<string>()
  for (const w of text.toLowerCase().split(/[^a-z0-9_]+/)) if (w.length > 1 && !STOP.has(w)) out.add(stem(w))
  return out
}

/** 0..1: 2|A∩B| / (|A|+|B|) over content-word stems. */
export function lexicalSimilarity(a: string, b: string): number {
  const A = terms(a)
  const B = terms(b)
  if (A.size === 0 || B.size === 0) return 0
  let shared = 0
  for (const t of A) if (B.has(t)) shared++
  return (2 * shared) / (A.size + B.size)
}
