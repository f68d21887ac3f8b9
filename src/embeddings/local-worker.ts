// The `local` provider's worker thread: USE-lite runs here, so a long batch
// (a 2,000-character text takes ~60-150 ms on one core) never blocks the
// daemon's event loop (HTTP, ACP heartbeats, dispatch). One request at a
// time, in arrival order. scripts/build.ts compiles this file as a second
// entry point of the binary.
import { loadUseLite } from "./use-lite"

declare const self: Worker

export type WorkerRequest = { id: number; texts: string[] }
export type WorkerReply = { id: number; vectors: Float32Array[]; loadMs?: number } | { id: number; error: string }

let loadMs: number | undefined
let queue: Promise<void> = Promise.resolve()

async function handle(req: WorkerRequest): Promise<void> {
  try {
    const t0 = performance.now()
    const model = await loadUseLite()
    const firstLoad = loadMs === undefined
    loadMs ??= performance.now() - t0
    const rows = req.texts.length === 0 ? [] : await model.embed(req.texts)
    const vectors = rows.map((r) => Float32Array.from(r))
    const reply: WorkerReply = { id: req.id, vectors, ...(firstLoad ? { loadMs } : {}) }
    self.postMessage(reply, vectors.map((v) => v.buffer))
  } catch (e) {
    self.postMessage({ id: req.id, error: e instanceof Error ? e.message : String(e) } satisfies WorkerReply)
  }
}

self.onmessage = (e: MessageEvent<WorkerRequest>) => {
  queue = queue.then(() => handle(e.data))
}
