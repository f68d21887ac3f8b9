// A server-sent event stream with a keepalive comment, ended by the client
// going away or by the producer. The producer gets `send` and `end`, and
// returns its cleanup (unsubscribe), which runs exactly once.

const encoder = new TextEncoder()

export type SseSend = (event: string, data: unknown, id?: number | string) => void

/** `write` sends a frame made by sseFrame as it is (frames made once for many streams). */
export type SseProducer = (send: SseSend, end: () => void, write: (frame: string) => void) => (() => void) | Promise<() => void>

export function sseFrame(event: string, data: unknown, id?: number | string): string {
  return `${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

export function eventStream(signal: AbortSignal, produce: SseProducer, opts: { keepaliveMs?: number; retryMs?: number } = {}): Response {
  let done = false
  let cleanup: (() => void) | undefined
  let keepalive: ReturnType<typeof setInterval> | undefined
  const finish = () => {
    if (done) return
    done = true
    clearInterval(keepalive)
    signal.removeEventListener("abort", finish)
    const c = cleanup
    cleanup = undefined
    c?.()
  }
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const write = (text: string) => {
        if (done) return
        try {
          controller.enqueue(encoder.encode(text))
        } catch {
          finish()
        }
      }
      const end = () => {
        finish()
        try {
          controller.close()
        } catch {}
      }
      signal.addEventListener("abort", end, { once: true })
      write(`retry: ${opts.retryMs ?? 2000}\n\n`)
      keepalive = setInterval(() => write(": keepalive\n\n"), opts.keepaliveMs ?? 15_000)
      try {
        const c = await produce((event, data, id) => write(sseFrame(event, data, id)), end, write)
        if (done) c()
        else cleanup = c
      } catch (e) {
        finish()
        controller.error(e)
      }
    },
    cancel() {
      finish()
    },
  })
  return new Response(stream, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" } })
}
