// A scripted embedding server on loopback, speaking both Ollama's
// `POST /api/embed` and OpenAI's `POST /v1/embeddings`, for testing the
// ollama and openai providers (and the bench) over a real socket. Vectors come
// from `vector(text)` (default: the hash provider's features at `dimensions`),
// so they are deterministic and near for texts that share words. Scripted
// failures (`failNext`), a required API key, a hold (never answer, for
// timeouts) and a wrong size can be switched on; every request is recorded.
//
//   await using srv = await startEmbeddingServer({ dimensions: 768 })
//   createOllamaEmbedder({ url: srv.url })

import { hashEmbed } from "../../src/embeddings/hash"

export type EmbedRequestRecord = { path: string; headers: Record<string, string>; body: any }

export type EmbeddingServerOptions = {
  dimensions?: number
  vector?: (text: string) => ArrayLike<number>
  /** Model names the server knows; others get Ollama's / OpenAI's 404. Default: any. */
  models?: string[]
  /** When set, requests without `Authorization: Bearer <key>` get 401. */
  apiKey?: string
}

export type EmbeddingServer = {
  url: string
  requests: EmbedRequestRecord[]
  /** The next `times` requests answer `status` with `message` in the protocol's error shape. */
  failNext(status: number, message: string, times?: number): void
  /** Requests are held open (never answered) until release(). */
  hold(): void
  release(): void
  /** Answer vectors of this size from now on (a server whose model changed). */
  setDimensions(d: number): void
  /** OpenAI answers: list `data` in reverse order (indexes still right), as some servers do. */
  shuffle(on: boolean): void
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

export async function startEmbeddingServer(o: EmbeddingServerOptions = {}): Promise<EmbeddingServer> {
  let dimensions = o.dimensions ?? 768
  const vector = o.vector ?? ((t: string) => hashEmbed(t, dimensions))
  const requests: EmbedRequestRecord[] = []
  const failures: { status: number; message: string }[] = []
  let held: (() => void)[] | undefined
  let reversed = false

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url)
      const text = await req.text()
      let body: any
      try {
        body = JSON.parse(text)
      } catch {
        body = text
      }
      requests.push({ path: url.pathname, headers: Object.fromEntries(req.headers), body })
      const openai = url.pathname === "/v1/embeddings"
      const err = (status: number, message: string) =>
        Response.json(openai ? { error: { message, type: "invalid_request_error", code: null } } : { error: message }, { status })
      if (held) await new Promise<void>((r) => held!.push(r))
      if (req.method !== "POST" || (url.pathname !== "/api/embed" && !openai)) return err(404, `no route for ${req.method} ${url.pathname}`)
      const f = failures.shift()
      if (f) return err(f.status, f.message)
      if (o.apiKey !== undefined && req.headers.get("authorization") !== `Bearer ${o.apiKey}`) return err(401, "Incorrect API key provided")
      if (typeof body !== "object" || body === null || typeof body.model !== "string") return err(400, "model is required")
      if (o.models && !o.models.includes(body.model)) return err(404, openai ? `The model '${body.model}' does not exist` : `model "${body.model}" not found, try pulling it first`)
      const input: string[] = typeof body.input === "string" ? [body.input] : body.input
      if (!Array.isArray(input) || input.some((t) => typeof t !== "string")) return err(400, "input must be a string or a list of strings")
      const rows = input.map((t) => Array.from(vector(t)))
      if (!openai) return Response.json({ model: body.model, embeddings: rows, total_duration: 1, load_duration: 0, prompt_eval_count: input.length })
      const data = rows.map((embedding, index) => ({ object: "embedding", index, embedding }))
      return Response.json({ object: "list", model: body.model, data: reversed ? data.reverse() : data, usage: { prompt_tokens: input.length, total_tokens: input.length } })
    },
  })

  const close = async () => {
    for (const r of held ?? []) r()
    held = undefined
    await server.stop(true)
  }
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    failNext: (status, message, times = 1) => {
      for (let i = 0; i < times; i++) failures.push({ status, message })
    },
    hold: () => void (held ??= []),
    release: () => {
      for (const r of held ?? []) r()
      held = undefined
    },
    setDimensions: (d) => void (dimensions = d),
    shuffle: (on) => void (reversed = on),
    close,
    [Symbol.asyncDispose]: close,
  }
}
