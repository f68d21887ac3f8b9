import { errorResponse } from "./http-errors"

// Open event streams per API key and per client address. Each stream holds a
// socket and a store poller for as long as the client likes, so a valid key
// (every agent holds one) could otherwise open them until descriptors run out.
// A stream is counted from its 200 until its body ends, is cancelled, or its
// request is aborted (the client went away), whichever comes first.

export type StreamOwner = { key?: string; ip: string }

export class StreamCaps {
  private readonly byKey = new Map<string, number>()
  private readonly byIp = new Map<string, number>()

  constructor(
    readonly perKey: number,
    readonly perIp: number,
  ) {}

  open(who: StreamOwner): { key: number; ip: number } {
    return { key: who.key === undefined ? 0 : (this.byKey.get(who.key) ?? 0), ip: this.byIp.get(who.ip) ?? 0 }
  }

  /** A 429 when one more stream would pass a cap. */
  refuse(who: StreamOwner): Response | undefined {
    const n = this.open(who)
    const over = who.key !== undefined && n.key >= this.perKey ? `key ${who.key} has ${n.key}` : n.ip >= this.perIp ? `this address has ${n.ip}` : undefined
    if (!over) return undefined
    return errorResponse(
      429,
      { code: "too_many_streams", message: `too many open event streams: ${over} (limit ${who.key !== undefined && n.key >= this.perKey ? this.perKey : this.perIp})`, hint: "close a stream first, or raise daemon.sse_per_key / daemon.sse_per_ip in cca.toml" },
      { "retry-after": "5" },
    )
  }

  /** Count `response` while its body is open (only a 200 event stream counts). */
  track(who: StreamOwner, response: Response, signal: AbortSignal): Response {
    if (response.status !== 200 || !response.body || !response.headers.get("content-type")?.startsWith("text/event-stream")) return response
    const add = (m: Map<string, number>, k: string, d: number) => {
      const n = (m.get(k) ?? 0) + d
      if (n <= 0) m.delete(k)
      else m.set(k, n)
    }
    if (who.key !== undefined) add(this.byKey, who.key, 1)
    add(this.byIp, who.ip, 1)
    let released = false
    const release = () => {
      if (released) return
      released = true
      if (who.key !== undefined) add(this.byKey, who.key, -1)
      add(this.byIp, who.ip, -1)
    }
    signal.addEventListener("abort", release, { once: true })
    const reader = response.body.getReader()
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read()
          if (done) {
            release()
            controller.close()
          } else controller.enqueue(value)
        } catch (e) {
          release()
          controller.error(e)
        }
      },
      cancel(reason) {
        release()
        return reader.cancel(reason)
      },
    })
    return new Response(body, { status: response.status, headers: response.headers })
  }
}
