import { existsSync, statSync } from "node:fs"
import { join } from "node:path"
import { writeFileAtomic } from "../files"
import { paths } from "../paths"
import pgliteWasmPath from "@electric-sql/pglite/pglite.wasm" with { type: "file" }
import initdbWasmPath from "@electric-sql/pglite/initdb.wasm" with { type: "file" }
import pgliteDataPath from "@electric-sql/pglite/pglite.data" with { type: "file" }
// The package exports no subpath for its tarball; the file is what its own `vector` extension loads.
import vectorBundlePath from "../../node_modules/@electric-sql/pglite-pgvector/dist/vector.tar.gz" with { type: "file" }

// Problem: inside a compiled binary PGlite cannot find its WASM, its file
// system bundle or extension tarballs (it looks next to its own module, which
// is now inside the binary's virtual file system).
// Fix: embed them with `with { type: "file" }` and hand them over explicitly.
// The extension loader reads from the real file system only, so the pgvector
// tarball is copied out to the data directory once (keyed by its size).

export type PgliteAssets = {
  pgliteWasmModule: WebAssembly.Module
  initdbWasmModule: WebAssembly.Module
  fsBundle: Blob
  vectorBundle: URL
}

let compiled: Promise<[WebAssembly.Module, WebAssembly.Module]> | undefined

const isEmbedded = (path: string) => path.startsWith("/$bunfs/") || path.includes("~BUN")

async function vectorBundleOnDisk(): Promise<string> {
  if (!isEmbedded(vectorBundlePath)) return vectorBundlePath
  const file = Bun.file(vectorBundlePath)
  const target = join(paths.ccaDataDir(), "pglite", `vector-${file.size}.tar.gz`)
  if (!existsSync(target) || statSync(target).size !== file.size) writeFileAtomic(target, new Uint8Array(await file.arrayBuffer()), 0o644)
  return target
}

export async function pgliteAssets(): Promise<PgliteAssets> {
  // Compiling the WASM costs hundreds of ms; a process that opens PGlite
  // more than once (tests, `db` after a reopen) pays it once.
  compiled ??= Promise.all([
    Bun.file(pgliteWasmPath).arrayBuffer().then((b) => WebAssembly.compile(b)),
    Bun.file(initdbWasmPath).arrayBuffer().then((b) => WebAssembly.compile(b)),
  ])
  const [[pgliteWasmModule, initdbWasmModule], vector] = await Promise.all([compiled, vectorBundleOnDisk()])
  return { pgliteWasmModule, initdbWasmModule, fsBundle: Bun.file(pgliteDataPath), vectorBundle: Bun.pathToFileURL(vector) }
}
