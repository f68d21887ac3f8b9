import { readFileSync } from "node:fs"
import { NotFoundError, ToolError } from "../errors"
import { processAlive } from "../store/dir-lock"
import { pidFile, readRuntime, type RuntimeInfo } from "./runtime"

// `cca daemon stop|status|restart`: the daemon of this data dir, found by its
// run dir (daemon.pid, daemon.json), whether it was started with --detach or
// in the foreground of another terminal. Stopping is the daemon's own
// SIGTERM shutdown (finish or requeue running work within
// daemon.shutdown_grace_s, close the stores, remove the pid file), waited for
// until the process is gone.

export type DaemonState = { running: false } | ({ running: true; uptimeS: number; health?: string } & RuntimeInfo)

/** A process that has exited but was not reaped yet (a zombie) counts as gone. */
export function alive(pid: number): boolean {
  if (!processAlive(pid)) return false
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z"
  } catch {
    return true // no /proc: trust kill(pid, 0)
  }
}

function pidOnFile(): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidFile(), "utf8").trim(), 10)
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined
  } catch {
    return undefined
  }
}

/** The daemon of this data dir: its run-dir record and its health (GET /health, no key needed). */
export async function daemonState(opts: { timeoutMs?: number } = {}): Promise<DaemonState> {
  const info = readRuntime()
  if (!info || !alive(info.pid)) {
    const pid = pidOnFile()
    // Starting: the pid file is taken before the addresses are known.
    if (pid !== undefined) return { running: true, pid, http: "", acp: "", daemonId: "", started_at: "", version: "", uptimeS: 0, health: "starting" }
    return { running: false }
  }
  let health: string | undefined
  try {
    const res = await fetch(`${info.http}/api/v1/health`, { signal: AbortSignal.timeout(opts.timeoutMs ?? 3000) })
    health = ((await res.json()) as { status?: string }).status ?? `http ${res.status}`
  } catch {
    health = "not answering"
  }
  return { running: true, ...info, uptimeS: Math.max(0, Math.round((Date.now() - Date.parse(info.started_at)) / 1000)), health }
}

export type StopResult = { stopped: boolean; pid?: number; killed: boolean; waitedMs: number }

/**
 * SIGTERM the daemon and wait until its process is gone. Past `timeoutMs`:
 * with `force`, SIGKILL (its agents die with it: parent-death signal);
 * without, a named error saying so. No daemon: `stopped: false`.
 */
export async function stopDaemon(opts: { timeoutMs: number; force?: boolean; pollMs?: number }): Promise<StopResult> {
  const t0 = Date.now()
  const pid = readRuntime()?.pid ?? pidOnFile()
  if (pid === undefined || !alive(pid)) return { stopped: false, killed: false, waitedMs: 0 }
  process.kill(pid, "SIGTERM")
  const gone = async (until: number) => {
    while (alive(pid)) {
      if (Date.now() > until) return false
      await Bun.sleep(opts.pollMs ?? 50)
    }
    return true
  }
  if (await gone(t0 + opts.timeoutMs)) return { stopped: true, pid, killed: false, waitedMs: Date.now() - t0 }
  if (!opts.force) {
    throw new ToolError(`the daemon (pid ${pid}) did not stop within ${Math.round(opts.timeoutMs / 1000)} s of SIGTERM`, {
      hint: "wait for its shutdown (see its log), or `cca daemon stop --force` to kill it (its running tasks are requeued at the next start)",
    })
  }
  process.kill(pid, "SIGKILL")
  await gone(Date.now() + 10_000)
  return { stopped: true, pid, killed: true, waitedMs: Date.now() - t0 }
}

export function notRunning(): Error {
  return new NotFoundError("no daemon is running on this data dir", { hint: "cca daemon --detach" })
}
