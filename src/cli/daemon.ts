import { command, lazy } from "./common"
import { announce, detach, port } from "./daemon-run"
import { loadConfig } from "../config/load"
import { readRuntime } from "../daemon/runtime"
import { PrerequisiteError, UsageError } from "../errors"
import { createLogger, setLogKind } from "../log"
import { paths } from "../paths"

// `cca daemon`: the HTTP API, the ACP server and the dispatcher, in the
// foreground until SIGINT/SIGTERM. When it is ready, stdout gets a few lines
// for humans; when stdout is not a terminal (a script, a supervisor) one JSON
// line comes first ({"ready":true,"http":...,"acp":...,"pid":...}, the bound
// addresses even with port 0). `--json` prints only that line, as the usual
// envelope on one line. `--detach` starts the same command in its own
// session, logging to daemon.log, waits until it is ready, prints the same
// lines and returns. `stop`, `status` and `restart` act on the daemon of this
// data dir (src/daemon/control.ts).

const daemon = command({
  meta: { name: "daemon", description: "Run the daemon: HTTP API (:9200), ACP WebSocket (:9100) and task dispatcher" },
  args: {
    port: { type: "string", description: "HTTP port (daemon.http_port; 0 = a free port)" },
    "acp-port": { type: "string", description: "ACP WebSocket port (daemon.acp_port; 0 = a free port)" },
    bind: { type: "string", description: "Address to listen on (daemon.bind; default 127.0.0.1)" },
    detach: { type: "boolean", description: "Run in the background; log to ~/.local/share/cca/logs/daemon.log" },
    foreground: { type: "boolean", description: "Run in the foreground (the default)" },
  },
  async run(ctx, args) {
    if (args._[0] !== undefined && args._[0] in subCommands) return // citty runs the parent after a subcommand
    if (args.detach && args.foreground) throw new UsageError("--detach and --foreground exclude each other", { hint: "cca daemon --detach" })
    const loaded = await loadConfig()
    const d = loaded.config.daemon
    d.http_port = port("port", args.port) ?? d.http_port
    d.acp_port = port("acp-port", args["acp-port"]) ?? d.acp_port
    if (args.bind) d.bind = String(args.bind)

    if (args.detach) {
      const running = readRuntime()
      if (running) throw new PrerequisiteError(`a daemon is already running on this data dir (pid ${running.pid}, ${running.http})`, { hint: "cca daemon status, or cca daemon stop (or restart)" })
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

const subCommands = {
  stop: lazy(() => import("./daemon-stop")),
  status: lazy(() => import("./daemon-status")),
  restart: lazy(() => import("./daemon-restart")),
}

export default { ...daemon, subCommands }
