// A scripted org config host on loopback: serves one document with an ETag
// (and answers 304 to a matching If-None-Match), or a status of your choice,
// or never answers. Every request is recorded with its headers so tests can
// see what the client sent. Stop it with `await using`.

export type Recorded = { method: string; path: string; headers: Record<string, string> }

export type OrgServerMode =
  | { kind: "serve" }
  | { kind: "status"; status: number; body?: string }
  /** Accept the request and never answer. */
  | { kind: "hang" }
  /** Redirect every request to `location`. */
  | { kind: "redirect"; location: string; status?: number }

export type OrgServer = {
  url: string
  port: number
  requests: Recorded[]
  /** Serve `body` (a string as is, anything else as JSON) with this ETag (default: a hash of the body). */
  setConfig(body: unknown, etag?: string | null): void
  setMode(mode: OrgServerMode): void
  /** The Authorization header a request must carry; others get 401. */
  requireAuth(value: string | undefined): void
  /** Resolves at the first request received after this call. */
  nextRequest(): Promise<Recorded>
  stop(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

export function startOrgServer(initial?: unknown): OrgServer {
  let body = ""
  let etag: string | null = null
  let mode: OrgServerMode = { kind: "serve" }
  let requiredAuth: string | undefined
  const requests: Recorded[] = []
  const waiters: ((r: Recorded) => void)[] = []
  const hanging: (() => void)[] = []

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0, // "hang" must outlast the client's timeout, not the server's
    fetch(req) {
      const headers: Record<string, string> = {}
      req.headers.forEach((v, k) => (headers[k] = v))
      const rec = { method: req.method, path: new URL(req.url).pathname + new URL(req.url).search, headers }
      requests.push(rec)
      for (const w of waiters.splice(0)) w(rec)
      if (mode.kind === "hang") return new Promise<Response>((resolve) => hanging.push(() => resolve(new Response("gone", { status: 503 }))))
      if (mode.kind === "redirect") return new Response(null, { status: mode.status ?? 302, headers: { location: mode.location } })
      if (mode.kind === "status") return new Response(mode.body ?? "", { status: mode.status })
      if (requiredAuth !== undefined && headers.authorization !== requiredAuth) return new Response("unauthorized", { status: 401 })
      if (etag !== null && headers["if-none-match"] === etag) return new Response(null, { status: 304, headers: { etag } })
      return new Response(body, { status: 200, headers: { "content-type": "application/json", ...(etag ? { etag } : {}) } })
    },
  })

  const self: OrgServer = {
    url: `http://127.0.0.1:${server.port}/org.json`,
    port: server.port!,
    requests,
    setConfig(next, nextEtag) {
      body = typeof next === "string" ? next : JSON.stringify(next)
      etag = nextEtag === undefined ? `"${new Bun.CryptoHasher("sha1").update(body).digest("hex").slice(0, 16)}"` : nextEtag
      mode = { kind: "serve" }
    },
    setMode(next) {
      mode = next
    },
    requireAuth(value) {
      requiredAuth = value
    },
    nextRequest() {
      return new Promise((resolve) => waiters.push(resolve))
    },
    async stop() {
      for (const release of hanging.splice(0)) release()
      await server.stop(true)
    },
    [Symbol.asyncDispose]() {
      return self.stop()
    },
  }
  if (initial !== undefined) self.setConfig(initial)
  return self
}
