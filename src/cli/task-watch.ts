import { command } from "./common"
import { connect, type SseEvent } from "../daemon/client"
import { ExitCode, isAppError } from "../errors"
import { writeOut } from "../output"
import { describeTask, type TaskView } from "./task-view"

// Follow a task's event stream until it ends. The exit code is the task's
// outcome: 0 completed, 4 failed, 130 cancelled. A dropped stream (daemon
// restart) is resumed from the last event id for up to `--reconnect` seconds;
// a stream silent past client.stream_idle_s (the daemon sends keepalives
// every daemon.sse_keepalive_s) is resumed the same way. With no daemon at
// the start, it fails at once (exit 5).

type Event = { id: number; type: string; data: Record<string, unknown>; createdAt: string }
const FINAL = new Set(["completed", "failed", "cancelled"])

function line(e: Event): string {
  const d = e.data
  const detail =
    e.type === "claimed"
      ? `agent ${d.agentId} (attempt ${d.attempt})`
      : e.type === "progress"
        ? [typeof d.progress === "number" ? `${Math.round(d.progress * 100)}%` : "", d.message ?? ""].filter(Boolean).join(" ")
        : e.type === "requeued" || e.type === "failed"
          ? String((d.error as { message?: string } | null)?.message ?? (d.reason as { message?: string } | null)?.message ?? "")
          : ""
  return `${e.createdAt.slice(11, 19)}  ${e.type.padEnd(9)} ${detail}`.trimEnd()
}

export default command({
  meta: { name: "watch", description: "Follow a task until it ends; exit 0 completed, 4 failed, 130 cancelled" },
  args: {
    id: { type: "positional", description: "Task id", required: true },
    reconnect: { type: "string", integer: true, description: "Seconds to keep trying when the daemon goes away mid-watch (default 60)", default: "60" },
  },
  async run(ctx, args) {
    const id = encodeURIComponent(String(args.id))
    const client = await connect()
    // No daemon, or no such task: fail at once like every other command (exit 5 / 1).
    await client.get<TaskView>(`/api/v1/tasks/${id}`)
    const events: Event[] = []
    let lastEventId: string | undefined
    let ended = false // even for a task already ended: the stream replays its events, the final one included
    const patienceMs = Number(args.reconnect) * 1000
    let lostAt: number | undefined
    while (!ended) {
      try {
        for await (const sse of client.events(`/api/v1/tasks/${id}/events`, { lastEventId }) as AsyncGenerator<SseEvent>) {
          if (lostAt !== undefined && !ctx.json) ctx.warn("reconnected")
          lostAt = undefined
          const e = JSON.parse(sse.data) as Event
          lastEventId = sse.id ?? lastEventId
          events.push(e)
          if (!ctx.json) writeOut(line(e))
          if (FINAL.has(e.type)) ended = true
        }
        if (!ended) {
          // The stream ended without a final event: the task ended before our Last-Event-ID, or the daemon closed it.
          const t = await client.get<TaskView>(`/api/v1/tasks/${id}`)
          if (FINAL.has(t.status)) ended = true
        }
      } catch (e) {
        if (isAppError(e) && e.code === "stream_idle") {
          // Silent past client.stream_idle_s (not even a keepalive): resume from the last event.
          ctx.log.info(`task ${id}: ${e.message}; resuming after event ${lastEventId ?? 0}`)
          continue
        }
        const transient = isAppError(e) && (e.code === "missing_prerequisite" || e.status >= 500)
        if (!transient) throw e
        // The daemon went away after the watch began (a restart): one line, then quiet retries.
        if (lostAt === undefined && !ctx.json) ctx.warn(`lost the daemon (${e.message}); reconnecting for up to ${args.reconnect} s`)
        lostAt ??= Date.now()
        if (Date.now() - lostAt > patienceMs) throw e
        await Bun.sleep(500)
      }
    }
    const task = await client.get<TaskView>(`/api/v1/tasks/${id}`)
    if (task.status === "failed") ctx.warn(`task failed: ${task.error?.code}: ${task.error?.message}`)
    if (task.status === "cancelled") ctx.warn(`task cancelled: ${task.error?.message ?? ""}`)
    ctx.emit("TaskWatch", { task, events }, (d) => `\n${describeTask(d.task)}`)
    process.exitCode = task.status === "completed" ? ExitCode.ok : task.status === "cancelled" ? ExitCode.cancelled : ExitCode.tool
  },
})
