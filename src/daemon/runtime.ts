import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { UnavailableError } from "../errors"
import { writeJsonAtomic } from "../files"
import { paths } from "../paths"
import { processAlive } from "../store/dir-lock"

// What a running daemon leaves in paths.runDir(): `daemon.pid`, an exclusive
// lock (one daemon per data dir), and `daemon.json`, the addresses it bound
// (with port 0 only the daemon knows them) so CLI clients on this machine
// find it without configuration. A pid file left by a killed daemon is taken over.

export type RuntimeInfo = { pid: number; http: string; acp: string; daemonId: string; started_at: string; version: string }

export const pidFile = () => join(paths.runDir(), "daemon.pid")
export const runtimeFile = () => join(paths.runDir(), "daemon.json")

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

export function readRuntime(): RuntimeInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(runtimeFile(), "utf8")) as RuntimeInfo
    return Number.isInteger(info.pid) && processAlive(info.pid) ? info : undefined
  } catch {
    return undefined
  }
}

export type PidLock = { release(): void; writeRuntime(info: Omit<RuntimeInfo, "pid">): void }

/** Take the daemon's pid file, or fail naming the daemon that holds it. */
export function acquirePidLock(pid = process.pid): PidLock {
  const path = pidFile()
  mkdirSync(paths.runDir(), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${pid}.tmp`
  writeFileSync(tmp, `${pid}\n`, { mode: 0o600 })
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(tmp, path) // atomic: fails with EEXIST when another daemon holds it
        return handle(path, pid)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      }
      const holder = readPid(path)
      if (holder !== undefined && holder !== pid && processAlive(holder)) {
        const info = readRuntime()
        throw new UnavailableError(`a daemon is already running on this data dir (pid ${holder}${info ? `, ${info.http}` : ""})`, {
          hint: `use it (\`cca status\`), or stop it first (\`cca daemon stop\`); a second daemon needs its own XDG_DATA_HOME`,
          details: { pid: holder, pidFile: path },
        })
      }
      rmSync(path, { force: true }) // left by a daemon that is gone (SIGKILL)
    }
  } finally {
    rmSync(tmp, { force: true })
  }
  throw new UnavailableError(`could not take the daemon pid file ${path}`, { hint: `remove ${path} if no daemon is running` })
}

function handle(path: string, pid: number): PidLock {
  let held = true
  return {
    writeRuntime(info) {
      writeJsonAtomic(runtimeFile(), { pid, ...info }, 0o600)
    },
    release() {
      if (!held) return
      held = false
      if (readPid(path) === pid) {
        rmSync(runtimeFile(), { force: true })
        rmSync(path, { force: true })
      }
    },
  }
}
