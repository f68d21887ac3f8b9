import { chmodSync, closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from "node:fs"
import { ConfigError } from "./errors"
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

/** The file's text, or undefined when it does not exist. Other errors propagate. Only regular files, at most 1 MB (see readRegularFile). */
export async function readTextIfExists(path: string, maxBytes = MAX_FILE_BYTES): Promise<string | undefined> {
  return readRegularFile(path, maxBytes)
}

/** How much of a config, exceptions or cache file scc reads at most. */
export const MAX_FILE_BYTES = 1024 * 1024

function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a directory"
  if (st.isFIFO()) return "a named pipe (FIFO)"
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device"
  if (st.isSocket()) return "a socket"
  return "not a regular file"
}

function notRegular(path: string, st: Stats): InstanceType<typeof ConfigError> {
  return new ConfigError(`${path} is ${kindOf(st)}, where scc expects a regular file`, {
    hint: `move it aside (mv '${path}' '${path}.aside') and run the command again`,
    details: { path },
  })
}

/**
 * Problem: files a repository ships (.scc.yaml, .scc/exceptions.json) and
 * the user's own config and caches were read with Bun.file().text(): a FIFO
 * hung forever, a symlink to /dev/zero read gigabytes, a 20 MB file took
 * seconds and gigabytes, a directory gave "This is a bug". Fix: regular files
 * only (lstat, then fstat on the opened descriptor, so a swap in between is
 * caught; a symlink is followed only to a regular file), opened non-blocking
 * (a FIFO never blocks the open), and at most `maxBytes` read. Anything else
 * is a named ConfigError saying what the path is and what to do. Returns
 * undefined when the file does not exist.
 */
export function readRegularFile(path: string, maxBytes = MAX_FILE_BYTES): string | undefined {
  let st: Stats
  try {
    st = lstatSync(path)
    if (st.isSymbolicLink()) st = statSync(path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "ENOENT" || code === "ENOTDIR") return undefined
    throw e
  }
  if (!st.isFile()) throw notRegular(path, st)
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    const opened = fstatSync(fd)
    if (!opened.isFile()) throw notRegular(path, opened)
    const tooBig = () =>
      new ConfigError(`${path} is larger than ${Math.round(maxBytes / 1024)} KB, more than scc reads from such a file`, {
        hint: "check that it is the file you meant; config and exceptions files are a few KB",
        details: { path, bytes: opened.size },
      })
    if (opened.size > maxBytes) throw tooBig()
    const buf = Buffer.allocUnsafe(maxBytes + 1)
    let n = 0
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null)
      if (got === 0) break
      n += got
      if (n > maxBytes) throw tooBig() // it grew while we read
    }
    return buf.subarray(0, n).toString("utf8")
  } finally {
    closeSync(fd)
  }
}
