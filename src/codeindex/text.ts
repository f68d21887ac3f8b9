// Identifiers into words, for the tsvector and for queries: `parseHTTPHeader`
// and `parse_http_header` both give "parse http header" (the identifier
// itself is kept too, so a search for the exact name still matches).

const WORD = /[A-Za-z_$][A-Za-z0-9_$]*|[0-9]+/g

export function splitIdentifier(id: string): string[] {
  return id
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[_$\s]+/)
    .filter((p) => p.length > 0)
    .map((p) => p.toLowerCase())
}

/** The text, each identifier followed by its parts. */
export function identifierText(text: string): string {
  const out: string[] = []
  for (const m of text.matchAll(WORD)) {
    const w = m[0]
    const parts = splitIdentifier(w)
    out.push(w.toLowerCase().replace(/\$/g, ""))
    if (parts.length > 1) out.push(...parts)
  }
  return out.join(" ")
}

/** The words of a query, lower-cased, identifiers split, each once: safe to join into a tsquery. */
export function queryTerms(query: string): string[] {
  const seen = new Set<string>()
  for (const w of identifierText(query).split(" ")) {
    const t = w.replace(/[^a-z0-9]/g, "")
    if (t.length > 1 || /[0-9]/.test(t)) seen.add(t)
  }
  return [...seen]
}
