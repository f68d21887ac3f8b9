import { command } from "./common"
import { daemonState, notRunning } from "../daemon/control"
import { keyValues } from "../output"
import { paths } from "../paths"

// `cca daemon status`: is a daemon running on this data dir, where, and does
// it answer. Exit 0 running, 1 not running. (`cca status` asks a daemon,
// maybe a remote one, about its tasks and agents.)

export default command({
  meta: { name: "status", description: "Whether the daemon of this data dir runs: pid, addresses, uptime, health (exit 1 if not)" },
  async run(ctx) {
    const s = await daemonState()
    if (!s.running) throw notRunning()
    ctx.emit("DaemonState", { ...s, log: paths.daemonLogFile() }, (d) =>
      keyValues([
        ["state", `running (${d.health})`],
        ["pid", String(d.pid)],
        ["http", d.http || "-"],
        ["acp", d.acp || "-"],
        ["version", d.version || "-"],
        ["uptime", `${d.uptimeS} s`],
        ["log", d.log],
      ]),
    )
  },
})
