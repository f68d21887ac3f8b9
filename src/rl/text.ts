import type { Embedder } from "../embeddings/types"
import type { Logger } from "../log"
import { TEXT_DIMS } from "../orchestrator/features"
import { LEXICAL_SPACE } from "../orchestrator/task-text"
import { Rng } from "./rng"

// The task's text vector for routing. With a semantic embedder (ctx.embedder
// of kind `semantic`) the task's embedding is made once when the task is
// created (route() is synchronous and cannot wait for a model) and projected
// to TEXT_DIMS by a fixed seeded Gaussian matrix (random projection keeps
// angles roughly), then kept in the task's metadata.routing.text. With a
// lexical embedder (`hash`) the orchestrator's hashed words are used: they
// cost microseconds and need no preparation.

export type TextPrep = { space: string; prepare?: (text: string) => Promise<Record<string, unknown> | undefined> }

export function textPrep(embedder: Embedder | undefined, log: Logger, timeoutMs = 5000): TextPrep {
  if (!embedder || embedder.kind !== "semantic") return { space: LEXICAL_SPACE }
  const space = `${embedder.model}/rp${TEXT_DIMS}`
  const rng = new Rng(0x5eed)
  const proj = Float64Array.from({ length: TEXT_DIMS * embedder.dimensions }, () => rng.normal())
  return {
    space,
    async prepare(text) {
      try {
        const [v] = await embedder.embed([text], { signal: AbortSignal.timeout(timeoutMs), purpose: "document" })
        if (!v || v.length !== embedder.dimensions) return undefined
        const out = new Array<number>(TEXT_DIMS).fill(0)
        for (let i = 0; i < TEXT_DIMS; i++) {
          let s = 0
          for (let j = 0; j < v.length; j++) s += proj[i * v.length + j]! * v[j]!
          out[i] = s
        }
        const norm = Math.sqrt(out.reduce((a, b) => a + b * b, 0)) || 1
        return { text: { space, v: out.map((x) => Math.round((x / norm) * 1e4) / 1e4) } }
      } catch (e) {
        // Hashed words stand in for this task (another space: its text slots read as zeros to the policy).
        log.debug(`routing: no embedding for a task (${(e as Error).message})`)
        return undefined
      }
    },
  }
}
