import { findJsonSyntaxError, lineColumn } from "./json-position"

// Reading one JSON manifest with a status an auditor can act on. Only a file
// that does not exist is `missing`; anything else that stops the read (no
// permission, a directory where the file should be, a file where a directory
// should be) is `unreadable`. Bun.file, not node:fs: `audit` is a fast
// command, and node:fs costs ~2 ms to load in the compiled binary.

export type ManifestStatus = "parsed" | "missing" | "malformed" | "unreadable"

export type Manifest = {
  path: string
  status: ManifestStatus
  /** malformed: where and why; unreadable: the system error. */
  error?: string
  line?: number
  column?: number
}

export type ReadManifest = { manifest: Manifest; value?: unknown }

export async function readManifest(path: string): Promise<ReadManifest> {
  let text: string
  try {
    text = await Bun.file(path).text()
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "ENOENT") return { manifest: { path, status: "missing" } }
    return { manifest: { path, status: "unreadable", error: `${code ?? "error"}: ${(e as Error).message}` } }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  try {
    return { manifest: { path, status: "parsed" }, value: JSON.parse(text) }
  } catch (e) {
    const found = findJsonSyntaxError(text) ?? { offset: 0, message: (e as Error).message }
    return { manifest: { path, status: "malformed", error: found.message, ...lineColumn(text, found.offset) } }
  }
}

/** A parsed manifest whose shape is wrong is malformed too, pointing at its start. */
export function shapeError(m: Manifest, message: string): Manifest {
  return { path: m.path, status: "malformed", error: message, line: 1, column: 1 }
}

export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x)
}
