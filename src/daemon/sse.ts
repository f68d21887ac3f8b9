import { eventJson, FINAL_EVENT_TYPES, type TaskEventJson } from "../orchestrator/events"
import type { Orchestrator } from "../orchestrator/orchestrator"
import { FINAL_STATUSES } from "../store/task-types"

// One task's events as server-sent events. The live subscription opens
// before the replay from the store, and events that arrive meanwhile wait in
// a buffer, so nothing falls between replay and live; ids dedupe the overlap.
// The stream ends after the task's final event (completed, failed, cancelled).

const encoder = new TextEncoder()
const PAGE = 500

export function taskEventStream(o: Orchestrator, taskId: string, afterId: number, signal: AbortSignal, keepaliveMs = 15_000): Response {
  let cleanup = () => {}
  let done = false
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      let last = afterId
      let replaying = true
      const buffered: TaskEventJson[] = []
      const finish = () => {
        if (done) return
        done = true
        cleanup()
        try {
          controller.close()
        } catch {}
      }
      const send = (e: TaskEventJson) => {
        if (done || e.id <= last) return
        last = e.id
        controller.enqueue(encoder.encode(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`))
        if (FINAL_EVENT_TYPES.has(e.type)) finish()
      }
      const off = o.bus.on(taskId, (e) => (replaying ? buffered.push(e) : send(e)))
      const keepalive = setInterval(() => {
        if (!done) controller.enqueue(encoder.encode(": keepalive\n\n"))
      }, keepaliveMs)
      cleanup = () => {
        off()
        clearInterval(keepalive)
      }
      signal.addEventListener("abort", finish, { once: true })
      controller.enqueue(encoder.encode("retry: 2000\n\n"))
      try {
        for (;;) {
          const page = await o.taskEvents(taskId, last, PAGE)
          for (const e of page) send(eventJson(e))
          if (page.length < PAGE || done) break
        }
        replaying = false
        for (const e of buffered.sort((a, b) => a.id - b.id)) send(e)
        if (!done && FINAL_STATUSES.includes((await o.getTask(taskId)).status)) finish() // ended before afterId
      } catch (e) {
        done = true
        cleanup()
        controller.error(e)
      }
    },
    cancel() {
      done = true
      cleanup()
    },
  })
  return new Response(stream, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" } })
}
