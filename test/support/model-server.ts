// A scripted model server speaking the Anthropic Messages API on loopback, for
// running the real `claude` CLI offline. Rules (model-script.ts) decide each
// answer; every request is recorded so a test can assert on what Claude Code
// actually sent (tool results, system prompt, model, tools offered).
//
//   await using model = await startModelServer([{ match: { lastUserText: "hi" }, reply: { content: "hello" } }])
//   spawn claude with ANTHROPIC_BASE_URL = model.url
import {
  defaultReply,
  estimateTokens,
  readConversation,
  ruleMatches,
  sseEvents,
  toMessage,
  type Conversation,
  type Reply,
  type Rule,
  type Usage,
} from "./model-script"

export type RecordedRequest = {
  seq: number
  at: number
  method: string
  /** Path without the query string (Claude Code adds `?beta=true`). */
  path: string
  query: string
  headers: Record<string, string>
  body: unknown
  /** Set for POST /v1/messages. */
  conversation?: Conversation
  /** Name (or index) of the rule that answered, "default" when none did. */
  rule?: string
  /** What was answered (for /v1/messages). */
  reply?: Reply
  /** The client hung up before the answer was complete (an interrupt). */
  aborted?: boolean
  /** For /v1/messages: ms from reading the request to handing back the answer (the scripted delay, mostly). */
  modelMs?: number
}

export type ModelServer = {
  url: string
  port: number
  requests: RecordedRequest[]
  /** Requests to /v1/messages that are turns of the agent (not side requests). */
  turns(): RecordedRequest[]
  /** Add rules in front of the existing ones. */
  prepend(...rules: Rule[]): void
  /** Add rules after the existing ones (before the default). */
  append(...rules: Rule[]): void
  /** Resolves with the first recorded request (past or future) that satisfies `pred`. */
  waitFor(pred: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

type Waiter = { pred: (r: RecordedRequest) => boolean; resolve: (r: RecordedRequest) => void }

function abortableSleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false)
    const t = setTimeout(() => resolve(true), ms)
    signal.addEventListener("abort", () => (clearTimeout(t), resolve(false)), { once: true })
  })
}

function apiError(status: number, type: string, message: string): Response {
  return Response.json({ type: "error", error: { type, message } }, { status })
}

export type ModelServerOptions = {
  /** The usage every answer of POST /v1/messages reports, from the request body (e.g. a BPE count of it); over the reply's own. */
  usage?: (body: unknown) => Partial<Usage>
}

export async function startModelServer(initial: Rule[] = [], opts: ModelServerOptions = {}): Promise<ModelServer> {
  const rules: { rule: Rule; used: number; label: string }[] = []
  let added = 0
  const add = (where: "front" | "back", list: Rule[]) => {
    // Unnamed rules are called rule#N, N counting every rule ever added, from 0.
    const entries = list.map((rule) => ({ rule, used: 0, label: rule.name ?? `rule#${added++}` }))
    if (where === "front") rules.unshift(...entries)
    else rules.push(...entries)
  }
  add("back", initial)

  const requests: RecordedRequest[] = []
  const waiters = new Set<Waiter>()
  // A request is recorded when it arrives (so a test can act while a delayed
  // answer is pending) and waiters are told again when its answer is settled.
  const notify = (r: RecordedRequest) => {
    for (const w of waiters) if (w.pred(r)) (waiters.delete(w), w.resolve(r))
  }
  const inflight = new Set<AbortController>()

  function choose(c: Conversation): { reply: Reply; rule: string } {
    for (const entry of rules) {
      if (entry.rule.times !== undefined && entry.used >= entry.rule.times) continue
      if (!ruleMatches(entry.rule, c)) continue
      entry.used++
      const reply = typeof entry.rule.reply === "function" ? entry.rule.reply(c) : entry.rule.reply
      return { reply, rule: entry.label }
    }
    return { reply: defaultReply(c), rule: "default" }
  }

  async function messages(req: Request, rec: RecordedRequest): Promise<Response> {
    const started = performance.now()
    try {
      return await answer(req, rec)
    } finally {
      rec.modelMs = performance.now() - started
    }
  }

  async function answer(req: Request, rec: RecordedRequest): Promise<Response> {
    const c = readConversation(rec.body)
    rec.conversation = c
    const { reply, rule } = choose(c)
    rec.rule = rule
    rec.reply = reply
    notify(rec)
    // Bun aborts req.signal when the client disconnects; the controller also lets close() cut a long delay short.
    const ctl = new AbortController()
    inflight.add(ctl)
    req.signal.addEventListener("abort", () => ctl.abort(), { once: true })
    try {
      if (reply.delayMs && !(await abortableSleep(reply.delayMs, ctl.signal))) {
        rec.aborted = true
        return new Response(null, { status: 499 })
      }
    } finally {
      inflight.delete(ctl)
    }
    if (reply.error) return apiError(reply.error.status, reply.error.type, reply.error.message)
    const message = toMessage(opts.usage ? { ...reply, usage: { ...reply.usage, ...opts.usage(rec.body) } } : reply, c.model)
    if (!c.stream) return Response.json(message)
    const body = sseEvents(message).join("")
    return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } })
  }

  let seq = 0
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url)
      const text = req.method === "POST" ? await req.text() : ""
      let body: unknown = undefined
      if (text) {
        try {
          body = JSON.parse(text)
        } catch {
          body = text
        }
      }
      const rec: RecordedRequest = { seq: ++seq, at: Date.now(), method: req.method, path: url.pathname, query: url.search, headers: Object.fromEntries(req.headers), body }
      requests.push(rec)
      try {
        if (req.method === "HEAD" || (req.method === "GET" && url.pathname === "/")) return new Response(null, { status: 200 })
        if (req.method === "POST" && url.pathname === "/v1/messages") {
          if (typeof body !== "object" || body === null) return apiError(400, "invalid_request_error", "body must be a JSON object")
          return await messages(req, rec)
        }
        if (req.method === "POST" && url.pathname === "/v1/messages/count_tokens") return Response.json({ input_tokens: estimateTokens(body) })
        return apiError(404, "not_found_error", `scripted model server: no route for ${req.method} ${url.pathname}`)
      } finally {
        notify(rec)
      }
    },
  })

  const closeAll = async () => {
    for (const c of inflight) c.abort()
    for (const w of waiters) waiters.delete(w)
    await server.stop(true)
  }

  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port!,
    requests,
    turns: () => requests.filter((r) => r.conversation && !r.conversation.side),
    prepend: (...list) => add("front", list),
    append: (...list) => add("back", list),
    waitFor(pred, timeoutMs = 30_000) {
      const found = requests.find(pred)
      if (found) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const w: Waiter = { pred, resolve: (r) => (clearTimeout(t), resolve(r)) }
        const t = setTimeout(() => (waiters.delete(w), reject(new Error(`model server: no matching request within ${timeoutMs} ms (saw ${requests.length})`))), timeoutMs)
        waiters.add(w)
      })
    },
    close: closeAll,
    [Symbol.asyncDispose]: closeAll,
  }
}
