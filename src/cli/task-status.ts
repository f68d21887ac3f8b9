import { command } from "./common"
import { connect } from "../daemon/client"
import { describeTask, type TaskView } from "./task-view"

export default command({
  meta: { name: "status", description: "One task: status, agent, attempts, result or error" },
  args: { id: { type: "positional", description: "Task id", required: true } },
  async run(ctx, args) {
    const client = await connect()
    const task = await client.get<TaskView>(`/api/v1/tasks/${encodeURIComponent(String(args.id))}`)
    ctx.emit("Task", task, describeTask)
  },
})
