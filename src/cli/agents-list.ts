import { command } from "./common"
import { connect } from "../daemon/client"
import { table } from "../output"

type Agent = { id: string; role: string; status: string; health: string; host: string | null; taskIds: string[]; lastHeartbeatAt: string }

export default command({
  meta: { name: "list", description: "List agents: role, status, current task" },
  args: {
    role: { type: "string", description: "Only agents of this role" },
  },
  async run(ctx, args) {
    const client = await connect()
    const { items } = await client.get<{ items: Agent[] }>("/api/v1/agents", { role: args.role })
    ctx.emit("AgentList", { items }, (d) =>
      d.items.length === 0
        ? "no agents registered (connect one over ACP, e.g. `cca worker --daemon ws://127.0.0.1:9100 --role backend`)"
        : table(d.items, [
            { header: "id", get: (a) => a.id },
            { header: "role", get: (a) => a.role },
            { header: "status", get: (a) => a.status },
            { header: "task", get: (a) => a.taskIds.join(",") },
            { header: "host", get: (a) => a.host },
            { header: "last heartbeat", get: (a) => a.lastHeartbeatAt },
          ]),
    )
  },
})
