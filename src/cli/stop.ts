import { command } from "./common"
import { UsageError } from "../errors"
import { connect } from "../sandbox/engine"
import { stopManaged, type StopTarget } from "../sandbox/containers"
import { resolveWorkspace } from "../sandbox/workspace"

export default command({
  meta: { name: "stop", description: "Stop scc-managed containers: one by name, --all, or (neither) the current workspace's" },
  args: {
    name: { type: "positional", required: false, description: "Container name (see scc list)" },
    all: { type: "boolean", description: "Stop every scc-managed container" },
  },
  async run(ctx, args) {
    if (args.all && args.name) throw new UsageError("pass a container name or --all, not both", { hint: "scc stop NAME, or scc stop --all" })
    const target: StopTarget = args.all ? { all: true } : args.name ? { name: args.name } : { workspace: resolveWorkspace(undefined, { allowSuspicious: true }).path }
    const stopped = await stopManaged(await connect(), target)
    ctx.emit("ContainersStopped", { stopped: stopped.map((c) => c.name) }, (d) =>
      d.stopped.length === 0 ? "nothing was running" : d.stopped.map((n) => `stopped ${n}`).join("\n"),
    )
  },
})
