import { command } from "./common"
import { loadConfig } from "../config/load"
import { stopDaemon } from "../daemon/control"

// `cca daemon stop`: SIGTERM the daemon of this data dir and wait until it is
// gone. It finishes or requeues its running tasks within
// daemon.shutdown_grace_s first, so the default wait is that plus 30 s.
// Nothing running is not an error (a stop is idempotent).

export default command({
  meta: { name: "stop", description: "Stop the daemon of this data dir (SIGTERM, then wait for it to exit)" },
  args: {
    timeout: { type: "string", integer: true, description: "Seconds to wait for it to exit (default: daemon.shutdown_grace_s + 30)" },
    force: { type: "boolean", description: "Past the timeout, kill it (SIGKILL); its running tasks are requeued at the next start" },
  },
  async run(ctx, args) {
    const grace = (await loadConfig()).config.daemon.shutdown_grace_s
    const timeoutS = args.timeout === undefined ? grace + 30 : Number(args.timeout)
    const r = await stopDaemon({ timeoutMs: timeoutS * 1000, force: Boolean(args.force) })
    ctx.emit("DaemonStopped", r, (d) =>
      !d.stopped ? "no daemon was running" : `stopped the daemon (pid ${d.pid}) in ${(d.waitedMs / 1000).toFixed(1)} s${d.killed ? " (killed: it did not exit after SIGTERM)" : ""}`,
    )
  },
})
