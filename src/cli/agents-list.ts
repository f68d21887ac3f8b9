import { command } from "./common"
import { connect } from "../daemon/client"
import { table } from "../output"
import type { AgentView } from "./agents-view"

export default command({
  meta: { name: "list", description: "List agents: the daemon's pool and remote ones; role, status, current task" },
  args: {
    role: { type: "string", description: "Only agents of this role" },
  },
  async run(ctx, args) {
    const client = await connect()
    const { items } = await client.get<{ items: AgentView[] }>("/api/v1/agents", { role: args.role })
    ctx.emit("AgentList", { items }, (d) =>
      d.items.length === 0
        ? "no agents (start one with `cca agents spawn --role backend`, or connect a worker: `cca worker --daemon ws://127.0.0.1:9100 --role backend`)"
        : table(d.items, [
            { header: "id", get: (a) => a.id },
            { header: "role", get: (a) => a.role },
            { header: "driver", get: (a) => (a.kind === "remote" ? "remote" : a.driver) },
            { header: "status", get: (a) => a.status },
            { header: "task", get: (a) => a.taskIds.join(",") },
            { header: "restarts", get: (a) => a.restarts ?? "" },
            { header: "host", get: (a) => a.host ?? (a.kind === "local" ? "local" : "") },
            { header: "last heartbeat", get: (a) => a.lastHeartbeatAt },
          ]),
    )
  },
})
