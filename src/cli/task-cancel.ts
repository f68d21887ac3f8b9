import { command } from "./common"
import { connect } from "../daemon/client"
import type { TaskView } from "./task-view"

export default command({
  meta: { name: "cancel", description: "Cancel a pending or running task" },
  args: {
    id: { type: "positional", description: "Task id", required: true },
    reason: { type: "string", description: "Why (kept in the task's error)" },
  },
  async run(ctx, args) {
    const client = await connect()
    const task = await client.post<TaskView>(`/api/v1/tasks/${encodeURIComponent(String(args.id))}/cancel`, args.reason ? { reason: String(args.reason) } : {})
    ctx.emit("Task", task, (t) => `cancelled ${t.id}`)
  },
})
