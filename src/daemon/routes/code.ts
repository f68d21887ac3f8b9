import { Elysia } from "elysia"
import type { Job } from "../../codeindex/service"
import type { DaemonContext } from "../context"
import { doc } from "../context"
import { API_PREFIX } from "../prefix"

// The code index (src/codeindex). Bodies are checked by the service: a 400
// names the field; a path outside [indexing] roots is a 403 with the reason;
// a path that does not exist is a 404.

const encoder = new TextEncoder()

/** A job's progress as server-sent events (`progress`, then one `done`), ending with the job. */
function progressStream(ctx: DaemonContext, id: string, signal: AbortSignal): Response {
  const job = ctx.code.job(id)
  let stop = () => {}
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (j: Job) => {
        const done = j.status !== "running"
        controller.enqueue(encoder.encode(`event: ${done ? "done" : "progress"}\ndata: ${JSON.stringify(j)}\n\n`))
        if (done) {
          stop()
          controller.close()
        }
      }
      stop = ctx.code.watch(id, send)
      signal.addEventListener("abort", () => stop(), { once: true })
      send(job)
    },
    cancel: () => stop(),
  })
  return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } })
}

export function codeRoutes(ctx: DaemonContext) {
  const c = ctx.code
  return new Elysia({ name: "code", prefix: `${API_PREFIX}/code` })
    .post(
      "/index",
      async ({ body, set }) => {
        const job = await c.start((body ?? {}) as Record<string, unknown>)
        set.status = 202
        return job
      },
      { detail: doc({ summary: "Start an indexing job: {path, extensions?, exclude?}", tags: ["code"], responses: { 202: "The job", 400: "A bad field", 403: "Outside [indexing] roots", 404: "No such directory" } }) },
    )
    .get("/index/:id", ({ params, request }) => (request.headers.get("accept")?.includes("text/event-stream") ? progressStream(ctx, params.id, request.signal) : c.job(params.id)), {
      detail: doc({ summary: "An indexing job's progress: files, chunks, errors, rate, ETA (SSE with Accept: text/event-stream)", tags: ["code"], responses: { 404: "No such job" } }),
    })
    .post("/index/:id/cancel", ({ params }) => c.cancel(params.id), { detail: doc({ summary: "Cancel an indexing job", tags: ["code"], responses: { 404: "No such job" } }) })
    .post("/search", ({ body }) => c.search((body ?? {}) as Record<string, unknown>), {
      detail: doc({ summary: "Search indexed code: {query, limit?, language?, path?, kind?, root?}", tags: ["code"], responses: { 200: "Chunks, best first, with the signals of each score", 400: "A bad field" } }),
    })
    .get("/stats", () => c.stats(), { detail: doc({ summary: "Files and chunks per root, status and language; recent jobs", tags: ["code"] }) })
}
