import { command } from "./common"
import { connect } from "../daemon/client"
import { UsageError } from "../errors"
import type { TaskView } from "./task-view"

function int(name: string, value: unknown): number | undefined {
  if (value === undefined || value === "") return undefined
  const n = Number(value)
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number, not ${String(value)}`, { hint: "cca task create --help" })
  return n
}

export default command({
  meta: { name: "create", description: "Queue a task; prints its id (follow it with `cca task watch ID`)" },
  args: {
    description: { type: "positional", description: "What to do (also the prompt unless --prompt is given)", required: true },
    role: { type: "string", description: "Role of the agent that should run it (default: the role its words point to, else any)" },
    coordinate: { type: "boolean", description: "Hand it to a coordinator agent, which delegates its parts to other roles" },
    prompt: { type: "string", description: "What the agent is sent, when it differs from the description" },
    priority: { type: "string", description: "Higher runs first (-1000..1000, default 0)" },
    parent: { type: "string", description: "Parent task id" },
    "max-attempts": { type: "string", description: "Attempts before it fails for good (default tasks.max_attempts)" },
    timeout: { type: "string", description: "Seconds it may run (default tasks.timeout_s)" },
    memory: { type: "boolean", default: true, description: "Use and feed the ReasoningBank for this task (--no-memory: neither)" },
  },
  async run(ctx, args) {
    const timeout = int("timeout", args.timeout)
    const body = {
      description: String(args.description),
      role: args.role || undefined,
      coordinate: args.coordinate ? true : undefined,
      prompt: args.prompt || undefined,
      priority: int("priority", args.priority),
      parentId: args.parent || undefined,
      maxAttempts: int("max-attempts", args["max-attempts"]),
      timeoutMs: timeout === undefined ? undefined : timeout * 1000,
      metadata: args.memory === false ? { memory: false } : undefined,
    }
    const client = await connect()
    const created = await client.post<{ id: string; task: TaskView }>("/api/v1/tasks", body)
    ctx.emit("TaskCreated", created.task, (t) => t.id)
  },
})
