import * as v from "valibot"
import { NetworkError, UnauthorizedError } from "../errors"
import { createLogger, type Logger } from "../log"
import { systemClock, type Clock, type Timer } from "./clock"
import { AcpConnectionClosedError, AcpFrameTooLargeError, AcpTimeoutError, RpcError, toRpcError } from "./errors"
import {
  ClientMethods,
  DEFAULT_MAX_FRAME_BYTES,
  ErrorCode,
  ServerMethods,
  type AgentHealth,
  type AgentMessageNotice,
  type AgentRegisterResult,
  type BroadcastNotice,
  type ParamsOf,
  type ResultOf,
  type ServerNotification,
  type ServerRequest,
  type TaskAssignParams,
  type TaskAssignResult,
  type TaskCancelParams,
} from "./protocol"
import { PendingRequests, encodeError, encodeNotification, encodeRequest, encodeResult, isTooLarge, parseFrame, validate, type Frame } from "./rpc"

// The ACP client for remote workers and the MCP bridge: connects with an API
// key, registers, heartbeats, answers the server's requests (task_assign,
// health_check), and reconnects with exponential backoff and jitter,
// registering again with the tasks it still runs. Requests fail fast with a
// named error when the connection drops; nothing is queued while offline.

type Awaitable<T> = T | Promise<T>
type S = typeof ServerMethods

export type AcpClientHandlers = {
  /** The server offers a task. Without a handler every task is rejected. */
  taskAssign?(task: TaskAssignParams): Awaitable<TaskAssignResult>
  taskCancel?(p: TaskCancelParams): void
  broadcast?(notice: BroadcastNotice): void
  message?(notice: AgentMessageNotice): void
  /** Answer to the server's health_check; by default "ok"/"busy" from the running tasks. */
  health?(): Awaitable<AgentHealth>
  registered?(result: AgentRegisterResult, afterReconnect: boolean): void
  disconnected?(code: number, reason: string): void
  reconnecting?(attempt: number, delayMs: number): void
  /** The client stopped for good: `close()` was called, or a reconnect was refused (401). */
  closed?(error?: Error): void
}

export type ReconnectOptions = { initialDelayMs?: number; maxDelayMs?: number; factor?: number; jitter?: number }

export type AcpClientOptions = {
  /**
   * e.g. ws://127.0.0.1:9100/. Several: the daemons of one cluster (one
   * database); the client connects to the first that answers and, when the
   * link drops, tries the next one first (failover), going round.
   */
  url: string | readonly string[]
  apiKey: string
  agent: { agentId: string; role: string; capabilities?: string[]; host?: string; version?: string }
  handlers?: AcpClientHandlers
  /** Default timeout of requests to the server. 10 s. */
  requestTimeoutMs?: number
  connectTimeoutMs?: number
  /**
   * `false` turns reconnecting off. Defaults: 500 ms doubling to 2 s, jitter 0.5 (each delay drawn from [d/2, d]).
   * Problem: with a 30 s cap, a worker whose daemon was down for a while came back up to 30 s after the
   * restarted daemon was ready (its requeued work waited for it: 43.6 s after a restart in the probe).
   * Why 2 s: an attempt against a daemon that is down is one refused TCP connect, and the handshake
   * limits (acp.handshake_rps) absorb a few per second per address.
   */
  reconnect?: false | ReconnectOptions
  clock?: Clock
  random?: () => number
  log?: Logger
}

export type ClientState = "idle" | "connecting" | "ready" | "reconnecting" | "closed"

/** Delay before reconnect attempt `attempt` (1-based): exponential, capped, scaled down by up to `jitter`. */
export function backoffDelay(attempt: number, o: Required<ReconnectOptions>, random: () => number): number {
  const base = Math.min(o.maxDelayMs, o.initialDelayMs * o.factor ** (attempt - 1))
  return Math.round(base * (1 - o.jitter * random()))
}

export class AcpClient {
  private ws: WebSocket | null = null
  private pending: PendingRequests
  private state_: ClientState = "idle"
  private heartbeat: Timer | null = null
  private retry: Timer | null = null
  private heartbeatIntervalMs = 0
  private maxFrameBytes = DEFAULT_MAX_FRAME_BYTES
  private readonly running = new Set<string>()
  private readonly clock: Clock
  private readonly log: Logger
  private readonly reconnect: Required<ReconnectOptions> | null
  private readonly urls: readonly string[]
  private current = 0

  constructor(private readonly opts: AcpClientOptions) {
    this.urls = typeof opts.url === "string" ? [opts.url] : [...opts.url]
    if (this.urls.length === 0) throw new RangeError("AcpClient needs at least one url")
    this.clock = opts.clock ?? systemClock
    this.log = opts.log ?? createLogger("acp-client")
    this.pending = new PendingRequests(this.clock)
    this.reconnect = opts.reconnect === false ? null : { initialDelayMs: 500, maxDelayMs: 2000, factor: 2, jitter: 0.5, ...opts.reconnect }
  }

  get state(): ClientState {
    return this.state_
  }

  /** The server this client talks to (or tries next). */
  get url(): string {
    return this.urls[this.current]!
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size
  }

  /** Tasks accepted and not yet reported; declared again at every (re-)registration. */
  get runningTasks(): string[] {
    return [...this.running]
  }

  /** Connects and registers once. Rejects with UnauthorizedError (401) or NetworkError; reconnecting starts only after a first success. */
  async connect(): Promise<AgentRegisterResult> {
    if (this.state_ !== "idle") throw new AcpConnectionClosedError(`connect() called in state ${this.state_}`, { hint: "create a new AcpClient to connect again" })
    this.state_ = "connecting"
    let failure: unknown
    for (let i = 0; i < this.urls.length; i++) {
      this.current = i
      try {
        return await this.session(false)
      } catch (e) {
        failure = e
        if (e instanceof UnauthorizedError || (this.state_ as ClientState) === "closed") break
        if (i + 1 < this.urls.length) this.log.warn(`acp-client: ${this.url} did not answer (${(e as Error).message}); trying ${this.urls[i + 1]}`)
      }
    }
    this.state_ = "closed"
    throw failure
  }

  request<M extends ServerRequest>(method: M, params: ParamsOf<S, M>, opts: { timeoutMs?: number } = {}): Promise<ResultOf<S, M>> {
    return this.call(method, params, opts.timeoutMs) as Promise<ResultOf<S, M>>
  }

  /** Sends a notification; false when not connected (notifications are fire-and-forget, nothing is queued). */
  notify<M extends ServerNotification>(method: M, params: ParamsOf<S, M>): boolean {
    const frame = encodeNotification(method, validate(ServerMethods[method].params, params))
    if (this.state_ !== "ready") return false
    this.sendFrame(frame, method)
    return true
  }

  progress(p: ParamsOf<S, "task.progress">): boolean {
    return this.notify("task.progress", p)
  }

  /** Reports a task's outcome; once the server recorded it the task is no longer declared as running. */
  async result(p: ParamsOf<S, "task_result">, opts?: { timeoutMs?: number }): Promise<ResultOf<S, "task_result">> {
    const r = await this.request("task_result", p, opts)
    this.running.delete(p.taskId)
    return r
  }

  broadcast(p: ParamsOf<S, "broadcast">): Promise<ResultOf<S, "broadcast">> {
    return this.request("broadcast", p)
  }

  message(to: string, message: string, data?: unknown): Promise<ResultOf<S, "agent.message">> {
    return this.request("agent.message", { to, message, data })
  }

  /** Asks the server for a child task; with `wait`, give a timeout long enough for the child to finish. */
  delegate(p: ParamsOf<S, "agent.delegate">, opts?: { timeoutMs?: number }): Promise<ResultOf<S, "agent.delegate">> {
    return this.request("agent.delegate", p, opts)
  }

  healthCheck(): Promise<ResultOf<S, "health_check">> {
    return this.request("health_check", {})
  }

  /** Closes for good: no reconnect, pending requests fail. */
  async close(): Promise<void> {
    if (this.state_ === "closed") return
    this.state_ = "closed"
    this.retry?.cancel()
    this.stopHeartbeat()
    const ws = this.ws
    this.ws = null
    this.pending.failAll((m) => new AcpConnectionClosedError(`${m}: the client was closed`))
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      const gone = new Promise<void>((resolve) => ws.addEventListener("close", () => resolve(), { once: true }))
      ws.close(1000, "client closing")
      // Bun waits up to 30 s for the server's close frame; a shutting-down worker should not.
      const cut = this.clock.setTimeout(() => ws.terminate(), 2000)
      await gone
      cut.cancel()
    }
    this.opts.handlers?.closed?.()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  private async call(method: string, params: unknown, timeoutMs?: number, allowWhileConnecting = false): Promise<unknown> {
    const spec = (ServerMethods as Record<string, { params: v.GenericSchema; result?: v.GenericSchema }>)[method]
    if (!spec?.result) throw new RpcError(ErrorCode.methodNotFound, `Unknown ACP request method: ${method}`)
    const checked = validate(spec.params, params)
    if (this.state_ !== "ready" && !allowWhileConnecting) throw new AcpConnectionClosedError(`${method}: not connected (state ${this.state_})`)
    const { id, answer } = this.pending.open(method, timeoutMs ?? this.opts.requestTimeoutMs ?? 10_000)
    try {
      this.sendFrame(encodeRequest(id, method, checked), method)
    } catch (e) {
      this.pending.fail(id, e as Error)
    }
    return validate(spec.result, await answer, `result of ${method}`)
  }

  private sendFrame(frame: string, method: string): void {
    const ws = this.ws
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new AcpConnectionClosedError(`${method}: not connected`)
    if (isTooLarge(frame, this.maxFrameBytes)) throw new AcpFrameTooLargeError(`${method}: the frame is larger than the server's limit of ${this.maxFrameBytes} bytes`)
    ws.send(frame)
  }

  /** One connection: open the socket, register, start heartbeats. */
  private async session(afterReconnect: boolean): Promise<AgentRegisterResult> {
    const ws = await this.open()
    if (this.state_ === "closed") {
      ws.close(1000, "client closing")
      throw new AcpConnectionClosedError("the client was closed while connecting")
    }
    this.ws = ws
    let result: AgentRegisterResult
    try {
      result = (await this.call("agent.register", { ...this.opts.agent, taskIds: this.runningTasks }, undefined, true)) as AgentRegisterResult
    } catch (e) {
      if (this.ws === ws) {
        this.ws = null
        ws.terminate()
      }
      throw e
    }
    this.state_ = "ready"
    this.heartbeatIntervalMs = result.heartbeatIntervalMs
    this.maxFrameBytes = result.maxFrameBytes
    this.startHeartbeat()
    this.opts.handlers?.registered?.(result, afterReconnect)
    return result
  }

  private open(): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const url = this.url
      const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${this.opts.apiKey}` } })
      let failure: Error | null = null
      const timer = this.clock.setTimeout(() => {
        failure = new AcpTimeoutError(`connecting to ${url} took longer than ${this.opts.connectTimeoutMs ?? 10_000} ms`)
        ws.terminate()
      }, this.opts.connectTimeoutMs ?? 10_000)
      ws.onerror = (ev) => {
        const message = (ev as ErrorEvent).message ?? "connection failed"
        const status = /status code: (\d{3})/.exec(message)?.[1]
        failure ??=
          status === "401"
            ? new UnauthorizedError(`The ACP server at ${url} refused the API key`, { hint: "check the key (CCA_API_KEY) or create one with `cca keys create`" })
            : new NetworkError(`Cannot connect to the ACP server at ${url}: ${message}`, { hint: "check that `cca daemon` runs and the URL and port are right" })
      }
      ws.onopen = () => {
        timer.cancel()
        ws.onclose = (ev) => this.onClose(ws, ev.code, ev.reason)
        ws.onmessage = (ev) => this.onFrame(ws, typeof ev.data === "string" ? ev.data : String(ev.data))
        resolve(ws)
      }
      ws.onclose = (ev) => {
        timer.cancel()
        reject(failure ?? new NetworkError(`The ACP server at ${url} closed the connection during the handshake (${ev.code})`))
      }
    })
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return
    this.ws = null
    this.stopHeartbeat()
    this.pending.failAll((m) => new AcpConnectionClosedError(`${m}: the connection closed (code ${code}) before the server answered`))
    // Closed while (re)registering: the failing session() decides what comes next.
    if (this.state_ !== "ready") return
    this.log.info(`acp-client: disconnected from ${this.url} (${code}${reason ? ` ${reason}` : ""})`)
    this.opts.handlers?.disconnected?.(code, reason)
    if (!this.reconnect) {
      this.state_ = "closed"
      this.opts.handlers?.closed?.(new AcpConnectionClosedError(`The connection closed (code ${code})`))
      return
    }
    this.scheduleReconnect(1)
  }

  private scheduleReconnect(attempt: number): void {
    if (this.state_ === "closed" || !this.reconnect) return
    this.state_ = "reconnecting"
    const delay = backoffDelay(attempt, this.reconnect, this.opts.random ?? Math.random)
    this.opts.handlers?.reconnecting?.(attempt, delay)
    this.retry = this.clock.setTimeout(() => {
      this.retry = null
      if (this.state_ === "closed") return
      if (this.urls.length > 1) this.current = (this.current + 1) % this.urls.length // failover: the next daemon first
      this.session(true).catch((e: Error) => {
        if (this.state_ === "closed") return
        if (e instanceof UnauthorizedError) {
          this.log.error(`acp-client: giving up: ${e.message}`)
          this.state_ = "closed"
          this.opts.handlers?.closed?.(e)
          return
        }
        this.log.debug(`acp-client: reconnect attempt ${attempt} failed: ${e.message}`)
        this.scheduleReconnect(attempt + 1)
      })
    }, delay)
  }

  private startHeartbeat(): void {
    this.stopHeartbeat()
    this.heartbeat = this.clock.setInterval(() => {
      const status = this.running.size > 0 ? "busy" : "idle"
      // A heartbeat that goes unanswered for a whole interval means the link is dead: drop it and reconnect.
      this.call("heartbeat", { status }, this.heartbeatIntervalMs).catch((e: Error) => {
        if (!(e instanceof AcpTimeoutError)) return
        this.log.warn(`acp-client: heartbeat unanswered; reconnecting`)
        this.ws?.terminate()
      })
    }, this.heartbeatIntervalMs)
  }

  private stopHeartbeat(): void {
    this.heartbeat?.cancel()
    this.heartbeat = null
  }

  private onFrame(ws: WebSocket, text: string): void {
    const frame = parseFrame(text)
    switch (frame.kind) {
      case "result":
      case "error":
        this.pending.settle(frame)
        return
      case "request":
        this.answer(ws, frame)
        return
      case "notification":
        this.onNotification(frame)
        return
      case "invalid":
        this.log.warn(`acp-client: invalid frame from the server: ${frame.error.message}`)
    }
  }

  private answer(ws: WebSocket, frame: Extract<Frame, { kind: "request" }>): void {
    const reply = (text: string) => ws.readyState === WebSocket.OPEN && ws.send(text)
    Promise.resolve()
      .then(() => this.serve(frame.method, frame.params))
      .then((r) => encodeResult(frame.id, r))
      .then(
        (text) => reply(text),
        (e: unknown) => {
          const { error, internal } = toRpcError(e)
          if (internal) this.log.error(`acp-client: handling ${frame.method} failed:`, e)
          reply(encodeError(frame.id, error))
        },
      )
  }

  private async serve(method: string, params: unknown): Promise<unknown> {
    const h = this.opts.handlers ?? {}
    if (method === "task_assign") {
      const task = validate(ClientMethods.task_assign.params, params)
      const answer = h.taskAssign ? validate(ClientMethods.task_assign.result, await h.taskAssign(task), "answer of the taskAssign handler") : { accepted: false, reason: "this agent takes no tasks" }
      if (answer.accepted) this.running.add(task.taskId)
      return answer
    }
    if (method === "health_check") {
      validate(ClientMethods.health_check.params, params)
      return h.health ? await h.health() : { status: this.running.size > 0 ? "busy" : "ok", taskIds: this.runningTasks }
    }
    throw new RpcError(ErrorCode.methodNotFound, `Method not found: ${method}`, { method })
  }

  private onNotification(frame: Extract<Frame, { kind: "notification" }>): void {
    const h = this.opts.handlers ?? {}
    try {
      if (frame.method === "task.cancel") h.taskCancel?.(validate(ClientMethods["task.cancel"].params, frame.params))
      else if (frame.method === "broadcast") h.broadcast?.(validate(ClientMethods.broadcast.params, frame.params))
      else if (frame.method === "agent.message") h.message?.(validate(ClientMethods["agent.message"].params, frame.params))
      else this.log.debug(`acp-client: ignored notification ${frame.method}`)
    } catch (e) {
      this.log.warn(`acp-client: ${frame.method} notification failed:`, e)
    }
  }
}
