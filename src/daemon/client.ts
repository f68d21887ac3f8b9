import { loadConfig } from "../config/load"
import { AppError, defineError, ExitCode, PrerequisiteError } from "../errors"
import * as flag from "../flag"
import { registerSecret } from "../log"
import { readRuntime } from "./runtime"

// The HTTP client of `cca status`, `cca task ...`, `cca agents ...` (and any
// other door that talks to a daemon). Plain fetch, no Elysia: CLI start-up
// stays cheap. Error bodies `{ error: { code, message, hint } }` come back as
// AppErrors with the exit code closest to the HTTP status.

export type SseEvent = { id?: string; event: string; data: string }

/** timeoutMs: for an answer (an event stream's headers); idleMs: an event stream's longest silence (default 45 s). */
export type ClientOptions = { url: string; apiKey?: string; timeoutMs?: number; idleMs?: number }

const EXIT_BY_STATUS: Record<number, number> = {
  400: ExitCode.usage,
  401: ExitCode.config,
  403: ExitCode.blocked,
  404: ExitCode.notFound,
  409: ExitCode.usage,
  413: ExitCode.usage,
  422: ExitCode.config,
  429: ExitCode.config,
  501: ExitCode.prerequisite,
  503: ExitCode.prerequisite,
}

type ErrorBody = { error?: { code?: string; message?: string; hint?: string; details?: unknown } }

function notRunning(url: string, cause: unknown): AppError {
  return new PrerequisiteError(`no daemon is answering at ${url}`, { hint: "cca daemon", cause })
}

export class DaemonClient {
  readonly url: string
  readonly apiKey?: string
  private readonly timeoutMs: number
  private readonly idleMs: number

  constructor(opts: ClientOptions) {
    this.url = opts.url.replace(/\/+$/, "")
    this.apiKey = opts.apiKey
    this.timeoutMs = opts.timeoutMs ?? 30_000
    this.idleMs = opts.idleMs ?? 45_000
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}), ...extra }
  }

  async request(method: string, path: string, opts: { body?: unknown; query?: Record<string, string | number | undefined>; signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<Response> {
    const u = new URL(this.url + path)
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== "") u.searchParams.set(k, String(v))
    let res: Response
    try {
      res = await fetch(u, {
        method,
        headers: this.headers({ ...(opts.body !== undefined ? { "content-type": "application/json" } : {}), ...opts.headers }),
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal ?? AbortSignal.timeout(this.timeoutMs),
      })
    } catch (e) {
      if ((e as Error).name === "TimeoutError") throw new PrerequisiteError(`the daemon at ${this.url} did not answer within ${this.timeoutMs} ms`, { hint: "cca daemon (is it overloaded or stuck? see its log)", cause: e })
      throw notRunning(this.url, e)
    }
    if (!res.ok) throw await this.failure(res)
    return res
  }

  async json<T>(method: string, path: string, opts: Parameters<DaemonClient["request"]>[2] = {}): Promise<T> {
    const res = await this.request(method, path, opts)
    return (await res.json()) as T
  }

  get<T>(path: string, query?: Record<string, string | number | undefined>): Promise<T> {
    return this.json<T>("GET", path, { query })
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.json<T>("POST", path, { body: body ?? {} })
  }

  private async failure(res: Response): Promise<AppError> {
    let body: ErrorBody = {}
    try {
      body = (await res.json()) as ErrorBody
    } catch {}
    const e = body.error ?? {}
    const exitCode = EXIT_BY_STATUS[res.status] ?? (res.status >= 500 ? ExitCode.tool : ExitCode.usage)
    const hint = res.status === 401 ? "set CCA_API_KEY to a key from `cca keys create` (or client.api_key in cca.toml)" : e.hint
    return new AppError(e.code ?? `http_${res.status}`, e.message ?? `${res.status} ${res.statusText}`, { exitCode, status: res.status }, { hint, details: e.details })
  }

  /**
   * Server-sent events of `path`; yields until the server ends the stream.
   * Problem: the request's 30 s timeout covered the whole stream, so a quiet
   * task's watch died ("The operation timed out") while the task ran. Fix:
   * `timeoutMs` bounds the wait for the headers only; after them, the stream
   * may be silent for `idleMs` (the daemon's keepalive comments count), past
   * which it ends with StreamIdleError, and the caller resumes it from its
   * Last-Event-ID.
   */
  async *events(path: string, opts: { lastEventId?: string; signal?: AbortSignal; idleMs?: number } = {}): AsyncGenerator<SseEvent> {
    const ctl = new AbortController()
    const outer = opts.signal
    const onOuter = () => ctl.abort(outer?.reason)
    if (outer?.aborted) onOuter()
    outer?.addEventListener("abort", onOuter, { once: true })
    let timer = setTimeout(() => ctl.abort(new DOMException(`no answer within ${this.timeoutMs} ms`, "TimeoutError")), this.timeoutMs)
    const idleMs = opts.idleMs ?? this.idleMs
    const idle = new StreamIdleError(`the daemon's event stream ${path} was silent for ${idleMs / 1000} s`, { hint: "the daemon sends a keepalive every daemon.sse_keepalive_s; raise client.stream_idle_s if a proxy delays it" })
    const arm = () => {
      clearTimeout(timer)
      timer = setTimeout(() => ctl.abort(idle), idleMs)
    }
    try {
      const res = await this.request("GET", path, {
        signal: ctl.signal,
        headers: { accept: "text/event-stream", ...(opts.lastEventId ? { "last-event-id": opts.lastEventId } : {}) },
      })
      if (!res.body) return
      arm()
      const body = res.body
      const chunks = async function* () {
        for await (const chunk of body) {
          arm()
          yield chunk
        }
      }
      try {
        yield* parseSse(chunks())
      } catch (e) {
        if (ctl.signal.aborted) throw ctl.signal.reason === idle || outer?.aborted ? ctl.signal.reason : e
        throw notRunning(this.url, e) // the connection broke mid-stream (a daemon restart)
      }
    } finally {
      clearTimeout(timer)
      outer?.removeEventListener("abort", onOuter)
      ctl.abort() // release the connection if the consumer stopped early
    }
  }
}

/** An event stream that stayed silent past the client's idle timeout (no event, no keepalive). */
export const StreamIdleError = defineError("stream_idle", { exitCode: ExitCode.prerequisite, status: 504 })

/** Parse a text/event-stream body (comments and `retry:` are skipped). */
export async function* parseSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder()
  let buffer = ""
  let event: Partial<SseEvent> & { data?: string } = {}
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true })
    for (let nl = buffer.indexOf("\n"); nl !== -1; nl = buffer.indexOf("\n")) {
      const line = buffer.slice(0, nl).replace(/\r$/, "")
      buffer = buffer.slice(nl + 1)
      if (line === "") {
        if (event.data !== undefined) yield { id: event.id, event: event.event ?? "message", data: event.data }
        event = {}
        continue
      }
      if (line.startsWith(":")) continue
      const colon = line.indexOf(":")
      const field = colon === -1 ? line : line.slice(0, colon)
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "")
      if (field === "data") event.data = event.data === undefined ? value : `${event.data}\n${value}`
      else if (field === "event") event.event = value
      else if (field === "id") event.id = value
    }
  }
}

/** URL and key from CCA_DAEMON_URL / CCA_API_KEY, cca.toml's [client], or the local daemon's run dir. */
export async function connect(opts: { timeoutMs?: number } = {}): Promise<DaemonClient> {
  const { config } = await loadConfig()
  const apiKey = flag.ccaApiKey() ?? (config.client.api_key || undefined)
  registerSecret(apiKey)
  let url = flag.ccaDaemonUrl() ?? (config.client.url || undefined)
  if (!url) url = readRuntime()?.http
  if (!url) {
    const host = config.daemon.bind === "0.0.0.0" || config.daemon.bind === "::" ? "127.0.0.1" : config.daemon.bind
    url = `http://${host.includes(":") ? `[${host}]` : host}:${config.daemon.http_port}`
  }
  return new DaemonClient({ url, apiKey, timeoutMs: opts.timeoutMs ?? config.client.timeout_s * 1000, idleMs: config.client.stream_idle_s * 1000 })
}
