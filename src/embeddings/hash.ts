import { normalize, type EmbedOptions, type Embedder, type EmbedderHealth } from "./types"

// The `hash` provider: deterministic feature hashing. Lexical, not semantic:
// two texts are near when they share words (identifiers split on camelCase,
// snake_case and digits) and character trigrams of words, whatever the words
// mean. No model, no I/O, microseconds a text: right for tests, tiny installs
// and as the lexical signal next to a real model. Status and docs call it
// lexical; nothing presents it as understanding.
//
// Each feature is hashed (FNV-1a) to an index and a sign (from a second mix
// of the hash, so collisions cancel on average instead of adding up); counts
// are damped (1 + ln tf); the vector is scaled to unit length.

/** Bump when the features change: vectors of another version are another space. */
const VERSION = "fh1"

const STOP = new Set(
  "a an and are as at be by for from has have in is it its of on or that the this to was were will with into than then there these those which who what when where how not no do does".split(" "),
)

const WORD_WEIGHT = 1
const TRIGRAM_WEIGHT = 0.35

function fnv1a(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

function mix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Words of a text: identifiers split into their parts, lowercased, stop words dropped. */
export function words(text: string): string[] {
  const out: string[] = []
  for (const raw of text.match(/[\p{L}\p{N}_]+/gu) ?? []) {
    // fooBarBaz, HTTPServer, snake_case, v2api -> foo bar baz, http server, snake case, v 2 api
    const parts = raw
      .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, "$1 $2")
      .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, "$1 $2")
      .replace(/(\p{L})(\p{N})/gu, "$1 $2")
      .replace(/(\p{N})(\p{L})/gu, "$1 $2")
      .split(/[\s_]+/)
    for (const p of parts) {
      const w = p.toLowerCase()
      if (w.length > 0 && !STOP.has(w)) out.push(w)
    }
  }
  return out
}

export type HashEmbedderOptions = { dimensions?: number }

export function hashEmbed(text: string, dimensions: number): Float32Array {
  const counts = new Map<string, number>()
  const add = (f: string, w: number) => counts.set(f, (counts.get(f) ?? 0) + w)
  for (const w of words(text)) {
    add(`w:${w}`, WORD_WEIGHT)
    const padded = `#${w}#`
    for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT)
  }
  const v = new Float32Array(dimensions)
  for (const [f, c] of counts) {
    const h = fnv1a(f)
    const sign = mix(h) & 1 ? 1 : -1
    v[h % dimensions]! += sign * (1 + Math.log(c))
  }
  return normalize(v)
}

export function createHashEmbedder(opts: HashEmbedderOptions = {}): Embedder {
  const dimensions = opts.dimensions ?? 768
  if (!Number.isInteger(dimensions) || dimensions < 8 || dimensions > 16_000) throw new Error(`hash embeddings need 8 to 16000 dimensions, not ${dimensions}`)
  const model = `hash:${VERSION}`
  let used = false
  const since = new Date().toISOString()
  let lastLatencyMs: number | undefined
  return {
    provider: "hash",
    model,
    dimensions,
    kind: "lexical",
    space: { model, dimensions },
    async embed(texts: readonly string[], opts?: EmbedOptions): Promise<Float32Array[]> {
      opts?.signal?.throwIfAborted()
      const t0 = performance.now()
      const out = texts.map((t) => hashEmbed(t, dimensions))
      used = true
      lastLatencyMs = performance.now() - t0
      return out
    },
    health(): EmbedderHealth {
      return { state: used ? "ok" : "unused", provider: "hash", model, dimensions, kind: "lexical", since, lastLatencyMs }
    },
  }
}
