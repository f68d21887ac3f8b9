import { closeSync, fstatSync, mkdirSync, openSync, readSync, rmSync, statSync, writeSync } from "node:fs"
import { dirname } from "node:path"
import { writeFileAtomic } from "../files"

// The usage log is appended to by every `scc start` on the machine, at once.
//
// Appends: one write(2) per line on an O_APPEND descriptor. The kernel places
// and writes it as a unit, so lines from concurrent processes never interleave
// (a single write per line matters: two writes could be split by another).
//
// Pruning (retention) rewrites the file with a rename, which races appenders
// that opened the old file. Nothing is lost, without a lock on the hot path:
// - the pruner, after its rename, copies whatever reached the old file after it
//   read it (it still holds the old file open);
// - an appender checks after writing that the path still names the file it
//   wrote to, and writes the line again if not.
// A line can so end up twice; readers drop duplicate events (see read.ts).

function inode(path: string): number | undefined {
  try {
    return statSync(path).ino
  } catch {
    return undefined
  }
}

/** Append one line (a newline is added) so concurrent writers never interleave. */
export function appendLine(path: string, line: string): void {
  const data = Buffer.from(line.endsWith("\n") ? line : `${line}\n`)
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  for (let attempt = 0; attempt < 8; attempt++) {
    const fd = openSync(path, "a", 0o600)
    let written: number | undefined
    try {
      written = fstatSync(fd).ino
      const n = writeSync(fd, data)
      if (n !== data.length) throw new Error(`short write to ${path}: ${n} of ${data.length} bytes`)
    } finally {
      closeSync(fd)
    }
    if (inode(path) === written) return
  }
}

function readFrom(fd: number, start: number): Buffer {
  const size = fstatSync(fd).size
  const buf = Buffer.alloc(Math.max(0, size - start))
  let off = 0
  while (off < buf.length) {
    const n = readSync(fd, buf, off, buf.length - off, start + off)
    if (n === 0) break
    off += n
  }
  return buf.subarray(0, off)
}

/**
 * Up to and including the last newline. A read can catch a large append half
 * done (Linux grows the file page by page), so the bytes after the last
 * newline may be a line still being written. The head leaves them to the tail
 * read; the tail leaves them to their writer, which finishes after the rename
 * and so writes its line again (see above).
 */
function completeLines(buf: Buffer): Buffer {
  return buf.subarray(0, buf.lastIndexOf(10) + 1)
}

export type PruneResult = { kept: number; dropped: number }

/**
 * Rewrite `path` without the lines `drop` selects, atomically (temp file +
 * rename, mode 0600). Returns null when another process is pruning or the
 * file does not exist. Safe against concurrent `appendLine` (see above).
 */
export function pruneLines(path: string, drop: (line: string) => boolean): PruneResult | null {
  const lock = `${path}.prune-lock`
  try {
    closeSync(openSync(lock, "wx", 0o600))
  } catch {
    // Someone else is pruning; a lock left by a crash is broken after a minute.
    try {
      if (Date.now() - statSync(lock).mtimeMs < 60_000) return null
      rmSync(lock, { force: true })
      closeSync(openSync(lock, "wx", 0o600))
    } catch {
      return null
    }
  }
  let fd: number | undefined
  try {
    try {
      fd = openSync(path, "r")
    } catch {
      return null
    }
    const head = completeLines(readFrom(fd, 0))
    const lines = head.toString("utf8").split("\n")
    lines.pop() // the empty string after the last newline
    const keep = lines.filter((l) => !drop(l))
    if (keep.length === lines.length) return { kept: keep.length, dropped: 0 }
    writeFileAtomic(path, keep.length ? `${keep.join("\n")}\n` : "", 0o600)
    const tail = completeLines(readFrom(fd, head.length))
    if (tail.length > 0) appendLine(path, tail.toString("utf8"))
    return { kept: keep.length, dropped: lines.length - keep.length }
  } finally {
    if (fd !== undefined) closeSync(fd)
    rmSync(lock, { force: true })
  }
}

/** The whole lines in the first `bytes` of `path`: the oldest entries of an append-only log. */
export function headLines(path: string, bytes = 65536): string[] {
  let fd: number
  try {
    fd = openSync(path, "r")
  } catch {
    return []
  }
  try {
    const buf = Buffer.alloc(bytes)
    const n = readSync(fd, buf, 0, buf.length, 0)
    const lines = buf.subarray(0, n).toString("utf8").split("\n")
    return n === bytes ? lines.slice(0, -1) : lines.filter(Boolean)
  } finally {
    closeSync(fd)
  }
}
