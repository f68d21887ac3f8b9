import { afterAll, expect, test } from "bun:test"
import { DaemonClient } from "../../src/daemon/client"
import { daemonLink } from "../../src/mcp/daemon"
import { waitForTask } from "../../src/mcp/tools/tasks"

// cca_task's wait on a stream that goes silent (a half-open connection: no
// event, no keepalive). A stand-in daemon on a real socket sends one event
// and then nothing; the wait follows the stream again from its last event id
// instead of hanging the tool call, and gives up with the task's id after
// its resumes.

const seen: { lastEventId: string | null }[] = []
let finishOn = 2 // the connection that sends the final event; 0: never
const encoder = new TextEncoder()

const server = Bun.serve({
  port: 0,
  idleTimeout: 0,
  fetch(req) {
    const url = new URL(req.url)
    if (url.pathname === "/api/v1/tasks/t1/events") {
      seen.push({ lastEventId: req.headers.get("last-event-id") })
      const n = seen.length
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(encoder.encode("retry: 2000\n\n")) // as the daemon's streams begin
          if (n === 1) c.enqueue(encoder.encode(`id: 1\ndata: ${JSON.stringify({ id: 1, taskId: "t1", type: "claimed", data: { agentId: "a1" } })}\n\n`))
          if (n === finishOn) c.enqueue(encoder.encode(`id: 2\ndata: ${JSON.stringify({ id: 2, taskId: "t1", type: "completed", data: {} })}\n\n`)), c.close()
          // otherwise: silence, the connection stays open
        },
      })
      return new Response(body, { headers: { "content-type": "text/event-stream" } })
    }
    if (url.pathname === "/api/v1/tasks/t1") return Response.json({ id: "t1", status: finishOn ? "completed" : "running", result: "done" })
    return new Response("not found", { status: 404 })
  },
})
afterAll(() => server.stop(true))

const link = () => daemonLink({ timeoutMs: 2_000, connect: async () => new DaemonClient({ url: server.url.href, timeoutMs: 2_000, idleMs: 300 }) })

test("a silent stream is followed again from its last event id, and the wait ends with the task", async () => {
  seen.length = 0
  finishOn = 2
  const progress: string[] = []
  const task = await waitForTask(link(), "t1", { signal: new AbortController().signal, progress: (m) => progress.push(m) })
  expect(task).toMatchObject({ id: "t1", status: "completed" })
  expect(seen).toEqual([{ lastEventId: null }, { lastEventId: "1" }])
  expect(progress).toEqual(["task t1: claimed by agent a1", "task t1: the event stream went silent; following it again", "task t1: completed"])
})

test("a stream that stays silent ends the wait after its resumes, naming the task to look at", async () => {
  seen.length = 0
  finishOn = 0
  const err = await waitForTask(link(), "t1", { signal: new AbortController().signal, progress: () => {} }, 2).catch((e: unknown) => e as Error & { hint?: string })
  expect(seen).toHaveLength(3)
  expect((err as Error).message).toContain("task t1 was queued, but waiting for it failed")
  expect((err as Error).message).toContain("was silent for 0.3 s")
  expect((err as { hint?: string }).hint).toContain(`cca_status {"task_id": "t1"}`)
})
