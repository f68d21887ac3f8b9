import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { dirname } from "node:path"
import { UnavailableError } from "../errors"

// Problem: PGlite has no lock of its own; two processes opening one data
// directory (a daemon and `cca db status`, or two daemons) corrupt it.
// Fix: an exclusive lock file next to the directory holding the owner's pid.
// A lock left by a dead process (SIGKILL) is taken over.

export type DirLock = { path: string; release(): void }

type Holder = { pid: number; host?: string; since?: string }

/** Is a process with this pid running (EPERM: yes, but not ours to signal)? */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, "utf8")) as Holder
    return Number.isInteger(h.pid) ? h : undefined
  } catch {
    return undefined
  }
}

export function acquireDirLock(dir: string, what = "the embedded store"): DirLock {
  const path = `${dir}.lock`
  const tmp = `${path}.${process.pid}`
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  // Written whole to a temp file, then hard-linked into place: link fails
  // atomically when the lock exists, and nobody ever reads a half-written lock.
  writeFileSync(tmp, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }), { mode: 0o600 })
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(tmp, path)
        return lockHandle(path)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      }
      const holder = readHolder(path)
      if (holder?.host && holder.host !== hostname()) {
        throw new UnavailableError(`${what} at ${dir} is locked by process ${holder.pid} on ${holder.host}`, {
          hint: `if no process on ${holder.host} uses it, remove ${path}`,
          details: { dir, pid: holder.pid, host: holder.host },
        })
      }
      // Our own pid in a lock this process does not hold: left by an earlier
      // incarnation that had the same pid (pid 1 in a restarted container).
      const ours = holder?.pid === process.pid && !held.has(path)
      if (holder && !ours && processAlive(holder.pid)) {
        throw new UnavailableError(`${what} at ${dir} is in use by process ${holder.pid}`, {
          hint: "stop that process first (usually `cca daemon`), or ask the running daemon (`cca status`)",
          details: { dir, pid: holder.pid },
        })
      }
      rmSync(path, { force: true }) // left by a process that is gone (SIGKILL): take it over
    }
  } finally {
    rmSync(tmp, { force: true })
  }
  throw new UnavailableError(`could not lock ${what} at ${dir}`, { hint: `remove ${path} if no process uses the store` })
}

/** Locks this process holds (a second open in the same process is refused too). */
const held = new Set<string>()

function lockHandle(path: string): DirLock {
  held.add(path)
  return {
    path,
    release() {
      if (!held.delete(path)) return
      if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true })
    },
  }
}
