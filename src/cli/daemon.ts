import { closeSync, mkdirSync, openSync } from "node:fs"
import { dirname } from "node:path"
import { command } from "./common"
import { loadConfig } from "../config/load"
import { readRuntime, type RuntimeInfo } from "../daemon/runtime"
import { PrerequisiteError, UsageError } from "../errors"
import * as flag from "../flag"
import { createLogger, setLogKind } from "../log"
import { envelope, writeOut } from "../output"
import { paths } from "../paths"

// `cca daemon`: the HTTP API, the ACP server and the dispatcher, in the
// foreground until SIGINT/SIGTERM. When it is ready, stdout gets exactly one
// JSON line first ({"ready":true,"http":...,"acp":...,"pid":...}, the bound
// addresses even with port 0), then a few lines for humans. `--json` prints
// only that line, as the usual envelope on one line. `--detach` starts the
// same command in its own session, logging to daemon.log, waits until it is
// ready, prints the same lines and returns.

function port(name: string, value: unknown): number | undefined {
  if (value === undefined || value === "") return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${name} must be a port number (0 to 65535, 0 picks a free one), not ${String(value)}`, { hint: `cca daemon --${name} 0` })
  return n
}

type Ready = { ready: true; http: string; acp: string; pid: number; daemonId: string; version: string; log: string }

function announce(json: boolean, ready: Ready, warnings: string[]): void {
  if (json) return writeOut(JSON.stringify(envelope("DaemonReady", ready, { warnings })))
  writeOut(JSON.stringify(ready))
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

export default command({
  meta: { name: "daemon", description: "Run the daemon: HTTP API (:9200), ACP WebSocket (:9100) and task dispatcher" },
  args: {
    port: { type: "string", description: "HTTP port (daemon.http_port; 0 = a free port)" },
    "acp-port": { type: "string", description: "ACP WebSocket port (daemon.acp_port; 0 = a free port)" },
    bind: { type: "string", description: "Address to listen on (daemon.bind; default 127.0.0.1)" },
    detach: { type: "boolean", description: "Run in the background; log to ~/.local/share/cca/logs/daemon.log" },
    foreground: { type: "boolean", description: "Run in the foreground (the default)" },
  },
  async run(ctx, args) {
    if (args.detach && args.foreground) throw new UsageError("--detach and --foreground exclude each other", { hint: "cca daemon --detach" })
    const loaded = await loadConfig()
    const d = loaded.config.daemon
    d.http_port = port("port", args.port) ?? d.http_port
    d.acp_port = port("acp-port", args["acp-port"]) ?? d.acp_port
    if (args.bind) d.bind = String(args.bind)

    if (args.detach) {
      const running = readRuntime()
      if (running) throw new PrerequisiteError(`a daemon is already running on this data dir (pid ${running.pid}, ${running.http})`, { hint: `cca status, or stop it with kill ${running.pid}` })
      const info = await detach(args)
      return announce(ctx.json, { ready: true, http: info.http, acp: info.acp, pid: info.pid, daemonId: info.daemonId, version: info.version, log: paths.daemonLogFile() }, [])
    }

    const { startDaemon } = await import("../daemon/server")
    setLogKind("daemon") // the pool's, ACP's and the domain code's loggers write daemon.log too
    const log = createLogger("daemon", { verbose: Boolean(args.verbose) })
    const daemon = await startDaemon({ config: loaded.config, log })
    let signals = 0
    const stopped = new Promise<void>((resolve) => {
      const onSignal = (sig: NodeJS.Signals) => {
        if (++signals > 1) {
          console.error(`${sig} again: exiting without a clean shutdown`)
          process.exit(1)
        }
        console.error(`${sig}: shutting down (requeueing unfinished work after ${d.shutdown_grace_s} s)`)
        daemon.stop(sig).then(resolve, (e: unknown) => {
          log.error("shutdown failed", e)
          resolve()
        })
      }
      process.on("SIGINT", onSignal)
      process.on("SIGTERM", onSignal)
    })
    announce(ctx.json, { ready: true, http: daemon.http, acp: daemon.acp, pid: process.pid, daemonId: daemon.daemonId, version: daemon.ctx.version, log: paths.daemonLogFile() }, daemon.warnings)
    await stopped
    console.error("daemon stopped")
  },
})

/** Start `cca daemon --foreground ...` in its own session and wait for its run-dir record. */
async function detach(args: Record<string, unknown>): Promise<RuntimeInfo> {
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
