import { closeSync, mkdirSync, openSync } from "node:fs"
import { dirname } from "node:path"
import { readRuntime, type RuntimeInfo } from "../daemon/runtime"
import { PrerequisiteError, UsageError } from "../errors"
import * as flag from "../flag"
import { envelope, writeOut } from "../output"
import { paths } from "../paths"

// What `cca daemon` and `cca daemon restart` share: port flags, starting a
// detached daemon, and the ready lines.

export function port(name: string, value: unknown): number | undefined {
  if (value === undefined || value === "") return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${name} must be a port number (0 to 65535, 0 picks a free one), not ${String(value)}`, { hint: `cca daemon --${name} 0` })
  return n
}

export type Ready = { ready: true; http: string; acp: string; pid: number; daemonId: string; version: string; log: string }

/** The ready line(s): the JSON line only where a program reads stdout (not a terminal), then the human lines. */
export function announce(json: boolean, ready: Ready, warnings: string[]): void {
  if (json) return writeOut(JSON.stringify(envelope("DaemonReady", ready, { warnings })))
  if (!process.stdout.isTTY) writeOut(JSON.stringify(ready))
  writeOut(
    [
      `cca daemon ${ready.version} is running (pid ${ready.pid})`,
      `  http  ${ready.http}/api/v1   (health: ${ready.http}/api/v1/health)`,
      `  acp   ${ready.acp}`,
      `  log   ${ready.log}`,
      ...warnings.map((w) => `  warning: ${w}`),
    ].join("\n"),
  )
}

/** Start `cca daemon --foreground ...` in its own session and wait for its run-dir record. */
export async function detach(args: Record<string, unknown>): Promise<RuntimeInfo> {
  const logFile = paths.daemonLogFile()
  mkdirSync(dirname(logFile), { recursive: true, mode: 0o700 })
  const fd = openSync(logFile, "a", 0o600)
  const argv = ["daemon", "--foreground"]
  for (const name of ["port", "acp-port", "bind"]) if (args[name] !== undefined && args[name] !== "") argv.push(`--${name}`, String(args[name]))
  // Problem: the child's stderr is the log file, which its logger also writes to.
  // Fix: the child logs nothing to stderr; only crashes before the logger exists land there.
  // From source (`bun src/main.ts`) the entry script comes after the runtime; a compiled binary is its own entry.
  const self = process.argv[1]?.endsWith(".ts") ? [process.execPath, process.argv[1]] : [process.execPath]
  const child = Bun.spawn([...self, ...argv], {
    env: { ...flag.processEnv(), SCC_LOG_LEVEL: "silent" },
    stdin: "ignore",
    stdout: fd,
    stderr: fd,
    detached: true,
  })
  closeSync(fd)
  child.unref()
  const deadline = Date.now() + 60_000
  for (;;) {
    const info = readRuntime()
    if (info?.pid === child.pid) return info
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = (await Bun.file(logFile).text()).split("\n").slice(-15).join("\n")
      throw new PrerequisiteError(`the daemon exited during start-up (exit ${child.exitCode ?? child.signalCode})`, { hint: `see ${logFile}:\n${tail}` })
    }
    if (Date.now() > deadline) throw new PrerequisiteError(`the daemon (pid ${child.pid}) did not become ready within 60 s`, { hint: `see ${logFile}` })
    await Bun.sleep(50)
  }
}
