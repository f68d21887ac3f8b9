import { command } from "./common"
import { pruneManaged } from "../sandbox/containers"
import { connect } from "../sandbox/engine"
import { sessionsRoot } from "../sandbox/plan"

export default command({
  meta: { name: "prune", description: "Remove stopped scc-managed containers (running ones and other containers are never touched)" },
  args: { "dry-run": { type: "boolean", description: "Only show what would be removed" } },
  async run(ctx, args) {
    const dryRun = Boolean(args["dry-run"])
    const removed = await pruneManaged(await connect(), sessionsRoot(), { dryRun })
    ctx.emit("ContainersPruned", { dryRun, removed: removed.map((c) => c.name) }, (d) => {
      if (d.removed.length === 0) return "no stopped scc-managed containers"
      return d.removed.map((n) => `${d.dryRun ? "would remove" : "removed"} ${n}`).join("\n")
    })
  },
})
