import { command } from "./common"
import { announce, detach, port } from "./daemon-run"
import { loadConfig } from "../config/load"
import { daemonState, stopDaemon } from "../daemon/control"
import { paths } from "../paths"

// `cca daemon restart`: stop the daemon of this data dir (as `daemon stop`)
// and start it again detached, on the addresses it had (so clients and
// agents configured with them find it again) unless flags say otherwise.
// With none running, it just starts one.

function portOf(url: string): string | undefined {
  try {
    return new URL(url.replace(/^ws/, "http")).port || undefined
  } catch {
    return undefined
  }
}

export default command({
  meta: { name: "restart", description: "Stop the daemon of this data dir and start it again in the background, on the same ports" },
  args: {
    port: { type: "string", description: "HTTP port (default: the one it had, else daemon.http_port)" },
    "acp-port": { type: "string", description: "ACP WebSocket port (default: the one it had, else daemon.acp_port)" },
    bind: { type: "string", description: "Address to listen on (default daemon.bind)" },
    timeout: { type: "string", integer: true, description: "Seconds to wait for the old one to exit (default: daemon.shutdown_grace_s + 30)" },
    force: { type: "boolean", description: "Kill the old one if it does not exit in time" },
  },
  async run(ctx, args) {
    port("port", args.port)
    port("acp-port", args["acp-port"])
    const before = await daemonState()
    const grace = (await loadConfig()).config.daemon.shutdown_grace_s
    const stopped = await stopDaemon({ timeoutMs: (args.timeout === undefined ? grace + 30 : Number(args.timeout)) * 1000, force: Boolean(args.force) })
    if (!stopped.stopped) ctx.warn("no daemon was running; starting one")
    const same = before.running ? { port: portOf(before.http), "acp-port": portOf(before.acp) } : {}
    const info = await detach({ port: args.port ?? same.port, "acp-port": args["acp-port"] ?? same["acp-port"], bind: args.bind })
    announce(ctx.json, { ready: true, http: info.http, acp: info.acp, pid: info.pid, daemonId: info.daemonId, version: info.version, log: paths.daemonLogFile() }, ctx.warnings)
  },
})
