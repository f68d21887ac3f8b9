import { join } from "node:path"
import { command } from "./common"
import { loadConfig } from "../config/load"
import { PrerequisiteError, UsageError } from "../errors"
import * as flag from "../flag"
import { createLogger, registerSecret, setLogKind } from "../log"
import { envelope, writeOut } from "../output"
import { paths } from "../paths"

// `cca worker --daemon ws://HOST:9100 --role R [--count N]`: Claude Code
// agents on this machine that take a daemon's tasks over ACP (src/pool/worker.ts).
// `--daemon ws://A:9100,ws://B:9100`: the daemons of one cluster; an agent
// fails over to the next when its daemon dies, and its running task goes with it.
// The key is CCA_API_KEY (or client.api_key); agent settings come from this
// machine's cca.toml [agents]. Runs until SIGINT/SIGTERM; running tasks then
// go back to the daemon's queue. When ready, stdout gets one JSON line.

export default command({
  meta: { name: "worker", description: "Run agents here that take a daemon's tasks over ACP" },
  args: {
    daemon: { type: "string", description: "The daemon's ACP URL, e.g. ws://10.0.0.5:9100; several, comma-separated, fail over in order", required: true },
    role: { type: "string", description: "Role of the agents", required: true },
    count: { type: "string", description: "How many agents (default 1)", default: "1" },
    api: { type: "string", description: "The daemon's HTTP URL, for the agents' cca tools (default: CCA_DAEMON_URL)" },
    "id-prefix": { type: "string", description: "Agent ids are <prefix>-<n> (default <host>-<role>-<random>)" },
  },
  async run(ctx, args) {
    const urls = String(args.daemon).split(",").map((u) => u.trim()).filter(Boolean)
    const bad = urls.find((u) => !/^wss?:\/\/[^/]+/.test(u))
    if (bad !== undefined || urls.length === 0) throw new UsageError(`--daemon must be the daemon's ACP WebSocket URL (ws:// or wss://), or several comma-separated, not ${bad ?? args.daemon}`, { hint: "cca worker --daemon ws://HOST:9100 --role backend  (a cluster: --daemon ws://A:9100,ws://B:9100)" })
    const acpUrl = urls.length === 1 ? urls[0]! : urls
    const count = Number(args.count)
    if (!Number.isInteger(count) || count < 1 || count > 64) throw new UsageError(`--count must be 1 to 64, not ${args.count}`, { hint: "cca worker --daemon ws://HOST:9100 --role backend --count 2" })
    const { config } = await loadConfig()
    const apiKey = flag.ccaApiKey() ?? (config.client.api_key || undefined)
    if (!apiKey) throw new PrerequisiteError("the worker needs an API key of the daemon", { hint: "export CCA_API_KEY=... (a key from `cca keys create` on the daemon's machine)" })
    registerSecret(apiKey)
    setLogKind("worker")
    const log = createLogger("worker", { verbose: Boolean(args.verbose) })

    const [{ startWorker }, { poolOptions }, { reapListed }] = await Promise.all([import("../pool/worker"), import("../pool/options"), import("../agent/reaper")])
    // Agents of a worker that died without stopping them (SIGKILL, no parent-death signal) are killed now;
    // other workers' on this host share the dir and are left alone while their worker runs.
    const pidDir = join(paths.runDir(), "worker-agents")
    const reaped = reapListed(pidDir, { orphansOnly: true })
    if (reaped.length) log.warn(`killed ${reaped.length} agent process(es) a previous worker left running: pid ${reaped.join(", ")}`)
    const worker = await startWorker({
      acpUrl,
      apiKey,
      daemonUrl: args.api ? String(args.api) : flag.ccaDaemonUrl(),
      role: String(args.role),
      count,
      idPrefix: args["id-prefix"] ? String(args["id-prefix"]) : undefined,
      pool: poolOptions(config, { log, owner: `worker:${process.pid}`, pidDir }),
      log,
    })
    const ready = { ready: true, daemon: urls.join(","), role: String(args.role), agents: worker.agents, pid: process.pid }
    // The signal handlers go in before "ready" is printed: a SIGTERM sent on reading it must stop the agents, not kill the worker (exit 143, seen in CI).
    const stopped = new Promise<void>((resolve) => {
      let signals = 0
      const onSignal = (sig: NodeJS.Signals) => {
        if (++signals > 1) process.exit(1)
        console.error(`${sig}: stopping the agents (their running tasks go back to the daemon)`)
        worker.stop().then(resolve, (e: unknown) => {
          log.error("worker shutdown failed", e)
          resolve()
        })
      }
      process.on("SIGINT", onSignal)
      process.on("SIGTERM", onSignal)
    })
    writeOut(ctx.json ? JSON.stringify(envelope("WorkerReady", ready, { warnings: ctx.warnings })) : JSON.stringify(ready))
    if (!ctx.json) writeOut(`cca worker: ${count} ${args.role} agent(s) taking tasks from ${urls.join(", ")}: ${worker.agents.join(", ")}`)
    await stopped
  },
})
