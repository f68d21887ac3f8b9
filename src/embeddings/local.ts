import { EmbeddingsUnavailableError } from "./errors"
import { batches, clip, HealthTracker } from "./health"
import type { WorkerReply, WorkerRequest } from "./local-worker"
import { normalize, type EmbedOptions, type Embedder, type EmbedderHealth } from "./types"

// The `local` provider: Universal Sentence Encoder lite (512-d, semantic),
// shipped inside the binary (use-lite.ts), run in a worker thread
// (local-worker.ts). Nothing loads until the first embed: creating this
// embedder costs nothing, so a daemon that never embeds never loads tfjs or
// the 28 MB of weights. A load failure or a dead worker is an
// EmbeddingsUnavailableError and health "down"; the next call tries again.

export const LOCAL_MODEL = "local:use-lite"
export const LOCAL_DIMENSIONS = 512

export type LocalEmbedderOptions = { batchSize?: number; maxChars?: number }

type Pending = { resolve: (v: Float32Array[]) => void; reject: (e: Error) => void }

export function createLocalEmbedder(o: LocalEmbedderOptions = {}): Embedder {
  const batchSize = o.batchSize ?? 32
  const maxChars = o.maxChars ?? 8000
  const tracker = new HealthTracker({ provider: "local", model: LOCAL_MODEL, dimensions: LOCAL_DIMENSIONS, kind: "semantic" })
  let worker: Worker | undefined
  let nextId = 1
  const pending = new Map<number, Pending>()

  const stop = (message: string) => {
    const all = [...pending.values()]
    pending.clear()
    worker?.terminate()
    worker = undefined
    for (const p of all) p.reject(unavailable(message))
  }

  const start = (): Worker => {
    // Problem: a worker that is referenced keeps a CLI process alive after its work is done.
    // Fix: referenced only while a request is pending.
    const w = new Worker(workerSpecifier())
    w.unref()
    w.onmessage = (e: MessageEvent<WorkerReply>) => {
      const r = e.data
      const p = pending.get(r.id)
      if (!p) return
      pending.delete(r.id)
      if (pending.size === 0) w.unref()
      if ("error" in r) {
        tracker.down(r.error)
        p.reject(unavailable(r.error))
      } else {
        if (r.loadMs !== undefined) tracker.loaded(r.loadMs)
        p.resolve(r.vectors)
      }
    }
    w.onerror = (e: ErrorEvent) => {
      tracker.down(`the embedding worker died: ${e.message}`)
      stop(`the embedding worker died: ${e.message}`)
    }
    return w
  }

  const run = (texts: string[]): Promise<Float32Array[]> =>
    new Promise((resolve, reject) => {
      worker ??= start()
      const id = nextId++
      pending.set(id, { resolve, reject })
      worker.ref()
      worker.postMessage({ id, texts } satisfies WorkerRequest)
    })

  return {
    provider: "local",
    model: LOCAL_MODEL,
    dimensions: LOCAL_DIMENSIONS,
    kind: "semantic",
    space: { model: LOCAL_MODEL, dimensions: LOCAL_DIMENSIONS },
    async embed(texts: readonly string[], opts?: EmbedOptions): Promise<Float32Array[]> {
      opts?.signal?.throwIfAborted()
      if (texts.length === 0) return []
      const t0 = performance.now()
      const clipped = clip(texts, maxChars)
      // USE-lite's tokenizer gives an empty text no tokens (and the model no row): it is a zero vector, as with hash.
      const nonEmpty = clipped.map((t, i) => [t, i] as const).filter(([t]) => t.trim() !== "")
      const out: Float32Array[] = clipped.map(() => new Float32Array(LOCAL_DIMENSIONS))
      for (const batch of batches(nonEmpty, batchSize)) {
        const vectors = await run(batch.map(([t]) => t))
        if (vectors.length !== batch.length) {
          const message = `the model returned ${vectors.length} vectors for ${batch.length} texts`
          tracker.down(message)
          throw unavailable(message)
        }
        for (let k = 0; k < batch.length; k++) {
          const v = vectors[k]!
          if (v.length !== LOCAL_DIMENSIONS) {
            const message = `the model returned a ${v.length}-d vector, not ${LOCAL_DIMENSIONS}-d`
            tracker.down(message)
            throw unavailable(message)
          }
          out[batch[k]![1]] = normalize(v)
        }
        opts?.signal?.throwIfAborted()
      }
      tracker.ok(performance.now() - t0)
      return out
    },
    health(): EmbedderHealth {
      return tracker.health()
    },
    async close(): Promise<void> {
      stop("the embedder was closed")
    },
  }
}

// Problem: inside the compiled binary this module is a chunk at /$bunfs/root/chunk-*.js, so a URL
// relative to it names /$bunfs/root/local-worker.ts, which does not exist; the worker is an entry
// point the binary knows by its path from src/ (scripts/build.ts).
function workerSpecifier(): string {
  return import.meta.url.includes("/$bunfs/") ? "./embeddings/local-worker.ts" : new URL("./local-worker.ts", import.meta.url).href
}

function unavailable(message: string) {
  return new EmbeddingsUnavailableError(`the local embedding model (USE-lite) failed: ${message}`, {
    hint: 'see the daemon log; to run without a model set [embeddings] provider = "hash" (lexical) or "ollama"',
  })
}
