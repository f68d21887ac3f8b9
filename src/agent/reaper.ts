import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { ChildProcess, ProcessHost, TerminalProcess } from "./process"

// Problem: an agent can outlive its daemon where the parent-death signal is
// not there (no setpriv, not Linux) or did not fire, and a SIGKILLed daemon
// never stops its agents itself (issue 15: one `claude` still ran 5 s after).
// Fix: every agent process started on this host is listed in the daemon's run
// dir (`run/agents/<pid>.json`: its pid and its start time from /proc) until
// it exits; a daemon starting on that run dir, which holds the pid lock so its
// predecessor is gone, kills what is listed and still running. The start time
// tells the listed process from a later one that got the same pid: only an
// exact match is killed (so nothing is killed where /proc is missing).
// Workers (`cca worker`, several per host, no pid lock) list theirs in a dir of
// their own and reap only the entries whose owner is gone (`orphansOnly`).

type Entry = { pid: number; start: string; ownerPid: number; ownerStart?: string }

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot); undefined when unreadable or gone (zombies count as gone). */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ") // after "pid (comm) "
    if (rest[0] === "Z" || rest[0] === "X") return undefined
    return rest[19] // field 22 is the 20th after comm
  } catch {
    return undefined
  }
}

function record(dir: string, pid: number | undefined): () => void {
  if (pid === undefined) return () => {}
  const start = processStart(pid)
  if (start === undefined) return () => {}
  const file = join(dir, `${pid}.json`)
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    writeFileSync(file, JSON.stringify({ pid, start, ownerPid: process.pid, ownerStart: processStart(process.pid) } satisfies Entry), { mode: 0o600 })
  } catch {
    return () => {}
  }
  return () => rmSync(file, { force: true })
}

/** The host, with every process it starts listed in `dir` until it exits. */
export function listedHost(host: ProcessHost, dir: string): ProcessHost {
  return {
    ...host,
    async spawn(spec): Promise<ChildProcess> {
      const child = await host.spawn(spec)
      const forget = record(dir, child.pid)
      void child.exited.finally(forget)
      return child
    },
    async spawnTerminal(spec, size): Promise<TerminalProcess> {
      const term = await host.spawnTerminal(spec, size)
      const forget = record(dir, term.pid)
      term.onExit(() => forget())
      return term
    },
  }
}

/**
 * Kill the processes `dir` lists that still run (same pid, same start time)
 * and forget them. Without `orphansOnly`, call it only while holding the
 * daemon's pid lock: then no live daemon owns them. With it, entries whose
 * owner still runs are left alone (several workers share a dir). Returns the
 * pids killed.
 */
export function reapListed(dir: string, opts: { orphansOnly?: boolean } = {}): number[] {
  let files: string[]
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".json"))
  } catch {
    return []
  }
  const killed: number[] = []
  for (const f of files) {
    const file = join(dir, f)
    try {
      const e = JSON.parse(readFileSync(file, "utf8")) as Partial<Entry> & { daemonPid?: number }
      if (opts.orphansOnly && ownerRuns(e.ownerPid ?? e.daemonPid, e.ownerStart)) continue
      if (Number.isInteger(e.pid) && e.pid! > 1 && e.pid !== process.pid && typeof e.start === "string" && processStart(e.pid!) === e.start) {
        process.kill(e.pid!, "SIGKILL")
        killed.push(e.pid!)
      }
    } catch {
      // unreadable entry, or the process went away meanwhile: nothing to kill
    }
    rmSync(file, { force: true })
  }
  return killed
}

/** The owner is this process or still runs (its start time matches; an entry without one: its pid exists). */
function ownerRuns(pid: number | undefined, start: string | undefined): boolean {
  if (!Number.isInteger(pid) || pid! <= 1) return false
  if (pid === process.pid) return true
  const now = processStart(pid!)
  return now !== undefined && (start === undefined || now === start)
}
