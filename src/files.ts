import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { MAX_FILE_BYTES, readRegularFile } from "./safe-read"
import { dirname } from "node:path"

// File helpers shared by every domain. Writes are atomic: a temp file in the
// same directory, then rename, so a crash never leaves a half-written file.

/** Write `data` to `path` atomically, creating parent directories (mode 0700). */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`
  try {
    writeFileSync(tmp, data, { mode })
    chmodSync(tmp, mode) // the umask may have narrowed or widened it
    renameSync(tmp, path)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
}

export function writeJsonAtomic(path: string, value: unknown, mode = 0o600): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, mode)
}

/** The file's text, or undefined when it does not exist. Other errors propagate. Only regular files, at most 1 MB (see safe-read.ts). */
export async function readTextIfExists(path: string, maxBytes = MAX_FILE_BYTES): Promise<string | undefined> {
  return readRegularFile(path, maxBytes)
}
