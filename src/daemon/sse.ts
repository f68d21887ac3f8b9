import { eventJson, FINAL_EVENT_TYPES, type TaskEventJson } from "../orchestrator/events"
import type { Orchestrator } from "../orchestrator/orchestrator"
import { FINAL_STATUSES } from "../store/task-types"

// One task's events as server-sent events, in id order, none missing, from
// Last-Event-ID on. The task may run on another daemon of the cluster: its
// events reach this one over the state pub/sub (Redis, or the database).
//
// Problem: events of one task can come from two daemons (created here,
// claimed there) and arrive out of order, or not at all while the pub/sub is
// away; sending them as they arrive could skip one for good (the next
// Last-Event-ID would be past it).
// Fix: the store is the source. A live event only says "there is more": the
// stream reads the store after the last id it sent (one read at a time; events
// arriving meanwhile fold into one more read). A quiet stream reads anyway
// every `pollMs`, which covers messages the pub/sub lost. The stream ends
// after the task's final event (completed, failed, cancelled).

const encoder = new TextEncoder()
const PAGE = 500

export type StreamOptions = { keepaliveMs?: number; pollMs?: number }

export function taskEventStream(o: Orchestrator, taskId: string, afterId: number, signal: AbortSignal, opts: StreamOptions = {}): Response {
  const keepaliveMs = opts.keepaliveMs ?? 15_000
  const pollMs = opts.pollMs ?? 2000
  let cleanup = () => {}
  let done = false
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      let last = afterId
      let reading: Promise<void> | undefined
      let again = false
      let quietSince = Date.now()
      const finish = () => {
        if (done) return
        done = true
        cleanup()
        try {
          controller.close()
        } catch {}
      }
      const fail = (e: unknown) => {
        if (done) return
        done = true
        cleanup()
        controller.error(e)
      }
      const send = (e: TaskEventJson) => {
        if (done || e.id <= last) return
        last = e.id
        controller.enqueue(encoder.encode(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`))
        if (FINAL_EVENT_TYPES.has(e.type)) finish()
      }
      const catchUp = async () => {
        do {
          again = false
          for (;;) {
            const page = await o.taskEvents(taskId, last, PAGE)
            for (const e of page) send(eventJson(e))
            if (page.length < PAGE || done) break
          }
        } while (again && !done)
        quietSince = Date.now()
      }
      const read = (): Promise<void> => {
        if (reading) {
          again = true
          return reading
        }
        reading = catchUp()
          .catch(fail)
          .finally(() => (reading = undefined))
        return reading
      }
      const off = o.bus.on(taskId, (e) => {
        if (e.id > last) void read()
      })
      const keepalive = setInterval(() => {
        if (!done) controller.enqueue(encoder.encode(": keepalive\n\n"))
      }, keepaliveMs)
      const poll = setInterval(() => {
        if (!done && Date.now() - quietSince >= pollMs) void read()
      }, pollMs)
      cleanup = () => {
        off()
        clearInterval(keepalive)
        clearInterval(poll)
      }
      signal.addEventListener("abort", finish, { once: true })
      controller.enqueue(encoder.encode("retry: 2000\n\n"))
      try {
        await read()
        if (!done && FINAL_STATUSES.includes((await o.getTask(taskId)).status)) {
          await read() // its final event may have been written after the read above
          finish() // ended before afterId
        }
      } catch (e) {
        fail(e)
      }
    },
    cancel() {
      done = true
      cleanup()
    },
  })
  return new Response(stream, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" } })
}
