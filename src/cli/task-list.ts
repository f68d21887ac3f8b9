import { command } from "./common"
import { connect } from "../daemon/client"
import { table } from "../output"
import type { TaskView } from "./task-view"

export default command({
  meta: { name: "list", description: "List tasks, newest first" },
  args: {
    status: { type: "string", description: "Only these statuses (comma-separated: pending,running,completed,failed,cancelled)" },
    role: { type: "string", description: "Only this role" },
    agent: { type: "string", description: "Only tasks of this agent" },
    limit: { type: "string", integer: true, description: "At most this many (1-500, default 50)" },
    cursor: { type: "string", description: "Continue after this page (nextCursor of the previous one)" },
  },
  async run(ctx, args) {
    const client = await connect()
    const page = await client.get<{ items: TaskView[]; nextCursor: string | null }>("/api/v1/tasks", {
      status: args.status,
      role: args.role,
      agentId: args.agent,
      limit: args.limit,
      cursor: args.cursor,
    })
    ctx.emit("TaskList", page, (d) => {
      if (d.items.length === 0) return "no tasks"
      const rows = table(d.items, [
        { header: "id", get: (t) => t.id },
        { header: "status", get: (t) => t.status },
        { header: "role", get: (t) => t.role ?? "-" },
        { header: "agent", get: (t) => t.agentId ?? "" },
        { header: "tries", get: (t) => t.attempts, align: "right" },
        { header: "created", get: (t) => t.createdAt },
        { header: "description", get: (t) => (t.description.length > 60 ? `${t.description.slice(0, 57)}...` : t.description).replace(/\s+/g, " ") },
      ])
      return d.nextCursor ? `${rows}\n\nmore: cca task list --cursor ${d.nextCursor}` : rows
    })
  },
})
