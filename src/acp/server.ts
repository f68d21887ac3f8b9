import type { Server, ServerWebSocket } from "bun"
import { createLogger, type Logger } from "../log"
import { systemClock, type Clock, type Timer } from "./clock"
import { AcpAgentUnavailableError, toRpcError } from "./errors"
import { Connection, type AcpPrincipal, type ConnData, type Counters } from "./connection"
import { notificationHandlers, requestHandlers, safely, type AcpHooks, type ServerCore } from "./methods"
import {
  ACP_SUBPROTOCOL,
  AgentHealth,
  BEARER_SUBPROTOCOL_PREFIX,
  CloseCode,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MISSED_HEARTBEATS,
  DEFAULT_PORT,
  ErrorCode,
  TaskAssignResult,
  TOKEN_QUERY_PARAM,
  type BroadcastNotice,
  type TaskAssignParams,
} from "./protocol"
import { BRIDGE_CAPABILITY } from "./bridge"
import { AgentRegistry, type AgentInfo, type Health } from "./registry"
import { encodeResult, isTooLarge, parseFrame, peekId, validate, type Frame } from "./rpc"

// The ACP server: JSON-RPC 2.0 over Bun's WebSocket, authenticated at the
// handshake. Transport, agent registry and routing live here; what methods
// mean for tasks is decided by the host's hooks (src/acp/methods.ts).

export type { AcpHooks } from "./methods"
export type { AcpPrincipal } from "./connection"
export type { AgentInfo, Health, UnhealthyReason } from "./registry"

/** Checks the API key of a handshake (null when the client sent none). Null refuses with 401. */
export type Authenticate = (key: string | null, req: Request) => AcpPrincipal | null | Promise<AcpPrincipal | null>

export type AcpServerOptions = {
  authenticate: Authenticate
  hooks?: AcpHooks
  /** 9100 by default; 0 picks a free port. */
  port?: number
  hostname?: string
  clock?: Clock
  log?: Logger
  heartbeatIntervalMs?: number
  missedHeartbeats?: number
  /** Frames above this get a -32001 error and the connection stays open. */
  maxFrameBytes?: number
  /** Frames above this are not even read: Bun closes the connection with 1009. Default 8x maxFrameBytes. */
  hardMaxFrameBytes?: number
  /** A client whose unsent queue passes this is cut off with close code 4008. Default 4 MiB. */
  maxBufferedBytes?: number
  /** Timeout of requests the server sends to agents (task_assign, health_check). Default 30 s. */
  requestTimeoutMs?: number
  /** Frames queued for one backpressured connection before it is cut off (4008). Default: bytes only. */
  maxQueuedFrames?: number
  /** Open connections at most; a handshake past it gets 503 with Retry-After. Default: no limit. */
  maxConnections?: number
  /** Asked before each handshake with the client address: refuse (429 with Retry-After) or let it through. */
  admitHandshake?: (remote: string) => { ok: true } | { ok: false; retryAfterS: number }
  /** Requests of one connection handled at once (a waiting agent.delegate counts); more get -32006. Default 256. */
  maxInFlight?: number
}

export type AcpStatus = {
  url: string
  uptimeMs: number
  connections: number
  agents: { total: number; healthy: number; unhealthy: number; disconnected: number; byRole: Record<string, { healthy: number; unhealthy: number; disconnected: number }> }
  messages: { in: number; out: number }
  errors: number
  rejectedHandshakes: number
  droppedConnections: number
  peakBufferedBytes: number
}

export class AcpServer {
  private server: Server<ConnData> | null = null
  private readonly registry: AgentRegistry<Connection>
  private readonly connections = new Set<Connection>()
  private readonly counters: Counters = { messagesIn: 0, messagesOut: 0, errors: 0, rejectedHandshakes: 0, droppedConnections: 0, peakBufferedBytes: 0 }
  private readonly core: ServerCore
  private readonly clock: Clock
  private readonly log: Logger
  private readonly maxFrameBytes: number
  private readonly maxBufferedBytes: number
  private readonly requestTimeoutMs: number
  private readonly maxInFlight: number
  private sweeper: Timer | null = null
  private nextConnId = 1
  private upgrading = 0
  private stopping = false
  private readonly decoder = new TextDecoder()

  constructor(private readonly opts: AcpServerOptions) {
    this.clock = opts.clock ?? systemClock
    this.log = opts.log ?? createLogger("acp")
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 4 * 1024 * 1024
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000
    this.maxInFlight = opts.maxInFlight ?? 256
    const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS
    this.registry = new AgentRegistry(heartbeatIntervalMs, opts.missedHeartbeats ?? DEFAULT_MISSED_HEARTBEATS)
    this.core = {
      registry: this.registry,
      hooks: opts.hooks ?? {},
      clock: this.clock,
      log: this.log,
      heartbeatIntervalMs,
      maxFrameBytes: this.maxFrameBytes,
      startedAt: this.clock.now(),
      fanout: (notice, except) => this.fanout(notice, except),
    }
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  async listen(): Promise<{ port: number; url: string }> {
    if (this.server) return { port: this.port, url: this.url }
    this.stopping = false
    const ctx = { counters: this.counters, log: this.log, clock: this.clock, maxBufferedBytes: this.maxBufferedBytes, maxQueuedFrames: this.opts.maxQueuedFrames }
    this.server = Bun.serve<ConnData>({
      port: this.opts.port ?? DEFAULT_PORT,
      hostname: this.opts.hostname ?? "127.0.0.1",
      fetch: (req, server) => this.handshake(req, server),
      websocket: {
        maxPayloadLength: this.opts.hardMaxFrameBytes ?? this.maxFrameBytes * 8,
        // Our own check in Connection.send decides the cut-off; Bun's limit is only a backstop.
        backpressureLimit: this.maxBufferedBytes * 2,
        idleTimeout: 120,
        open: (ws) => {
          const conn = new Connection(this.nextConnId++, ws, ctx)
          ws.data.conn = conn
          this.upgrading = Math.max(0, this.upgrading - 1)
          this.connections.add(conn)
        },
        message: (ws, raw) => this.onFrame(ws.data.conn!, raw),
        drain: (ws) => ws.data.conn?.drained(),
        close: (ws, code, reason) => this.onClose(ws, code, reason),
      },
    })
    this.sweeper = this.clock.setInterval(() => this.sweep(), Math.max(1, Math.floor(this.core.heartbeatIntervalMs / 3)))
    this.log.info(`acp: listening on ${this.url}`)
    return { port: this.port, url: this.url }
  }

  get port(): number {
    return this.server?.port ?? 0
  }

  get url(): string {
    return this.server ? `ws://${this.server.hostname}:${this.server.port}/` : ""
  }

  /** Offers a task to an agent; on `accepted` the server tracks it until its task_result or a release. */
  async assignTask(agentId: string, task: TaskAssignParams, opts: { timeoutMs?: number } = {}): Promise<TaskAssignResult> {
    const conn = this.connectionOf(agentId)
    const answer = validate(TaskAssignResult, await conn.request("task_assign", task, opts.timeoutMs ?? this.requestTimeoutMs), "result of task_assign")
    if (answer.accepted) this.registry.track(agentId, task.taskId)
    return answer
  }

  /** Tells the agent to stop a task and stops tracking it. False if the agent is not connected. */
  cancelTask(agentId: string, taskId: string, reason?: string): boolean {
    this.registry.untrack(agentId, taskId)
    return this.registry.connectionOf(agentId)?.notify("task.cancel", { taskId, reason }) ?? false
  }

  /** Stops tracking a task for an agent (the host moved it elsewhere). */
  releaseTask(agentId: string, taskId: string): void {
    this.registry.untrack(agentId, taskId)
  }

  async healthCheck(agentId: string, opts: { timeoutMs?: number } = {}): Promise<AgentHealth> {
    const conn = this.connectionOf(agentId)
    return validate(AgentHealth, await conn.request("health_check", {}, opts.timeoutMs ?? this.requestTimeoutMs), "result of health_check")
  }

  /** Sends a broadcast notification to every connected agent, or those of one role; returns how many got it. */
  broadcast(params: { message: string; role?: string; data?: unknown; from?: string }): number {
    return this.fanout({ from: params.from ?? "server", message: params.message, role: params.role, data: params.data })
  }

  /** Routes a message to one agent; false if it is not connected. */
  message(params: { to: string; message: string; data?: unknown; from?: string }): boolean {
    const conn = this.registry.connectionOf(params.to)
    return conn?.notify("agent.message", { from: params.from ?? "server", to: params.to, message: params.message, data: params.data }) ?? false
  }

  agents(filter: { role?: string; health?: Health; connected?: boolean } = {}): AgentInfo[] {
    return this.registry
      .all()
      .filter((a) => (filter.role === undefined || a.role === filter.role) && (filter.health === undefined || a.health === filter.health) && (filter.connected === undefined || a.connected === filter.connected))
  }

  agent(agentId: string): AgentInfo | undefined {
    return this.registry.get(agentId)
  }

  status(): AcpStatus {
    const byRole: AcpStatus["agents"]["byRole"] = {}
    const all = { healthy: 0, unhealthy: 0, disconnected: 0 }
    for (const a of this.registry.all()) {
      const role = (byRole[a.role] ??= { healthy: 0, unhealthy: 0, disconnected: 0 })
      for (const t of [all, role]) {
        t[a.health]++
        if (!a.connected) t.disconnected++
      }
    }
    const c = this.counters
    return {
      url: this.url,
      uptimeMs: Math.max(0, this.clock.now() - this.core.startedAt),
      connections: this.connections.size,
      agents: { total: all.healthy + all.unhealthy, ...all, byRole },
      messages: { in: c.messagesIn, out: c.messagesOut },
      errors: c.errors,
      rejectedHandshakes: c.rejectedHandshakes,
      droppedConnections: c.droppedConnections,
      peakBufferedBytes: c.peakBufferedBytes,
    }
  }

  /** Marks agents whose heartbeats are overdue unhealthy and fires onUnhealthy. The clock calls it; tests may too. */
  sweep(): void {
    for (const t of this.registry.sweep(this.clock.now())) {
      this.log.warn(`acp: agent ${t.agent.agentId} is unhealthy (${t.reason}); handing back ${t.taskIds.length} task(s)`)
      safely(this.log, "onUnhealthy", () => this.core.hooks.onUnhealthy?.(t.agent, t.taskIds, t.reason))
    }
  }

  /** Stops accepting, closes every connection with 1001, fails pending requests. Fires no hooks. */
  async stop(): Promise<void> {
    if (!this.server || this.stopping) return
    this.stopping = true
    this.sweeper?.cancel()
    for (const conn of this.connections) conn.close(CloseCode.goingAway, "server shutting down")
    await this.server.stop(true)
    this.server = null
    this.log.info("acp: stopped")
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop()
  }

  private connectionOf(agentId: string): Connection {
    const conn = this.registry.connectionOf(agentId)
    if (!conn) throw new AcpAgentUnavailableError(`Agent ${agentId} is not connected`)
    return conn
  }

  private fanout(notice: BroadcastNotice, except?: string): number {
    const frame = JSON.stringify({ jsonrpc: "2.0", method: "broadcast", params: notice })
    let n = 0
    for (const [agentId, conn] of this.registry.connections(notice.role)) {
      // An agent's MCP bridge is not a recipient: its agent is one of the pool's and hears it there.
      if (agentId === except || this.registry.get(agentId)?.capabilities.includes(BRIDGE_CAPABILITY)) continue
      if (conn.send(frame)) n++
    }
    return n
  }

  private async handshake(req: Request, server: Server<ConnData>): Promise<Response | undefined> {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(426, "upgrade_required", "This port speaks ACP (JSON-RPC 2.0 over WebSocket)", "connect with a WebSocket client, e.g. ws://127.0.0.1:9100/")
    }
    if (this.stopping) return errorResponse(503, "unavailable", "The ACP server is shutting down", "reconnect in a moment")
    const remote = server.requestIP(req)?.address ?? "unknown"
    const admitted = this.opts.admitHandshake?.(remote)
    if (admitted && !admitted.ok) {
      this.counters.rejectedHandshakes++
      return errorResponse(429, "rate_limited", `Too many handshakes from ${remote}`, `retry after ${admitted.retryAfterS} s, or raise acp.handshake_rps in cca.toml`, { "retry-after": String(admitted.retryAfterS), connection: "close" })
    }
    const max = this.opts.maxConnections
    if (max !== undefined && this.connections.size + this.upgrading >= max) {
      this.counters.rejectedHandshakes++
      this.log.warn(`acp: refused a connection from ${remote}: ${this.connections.size} open, acp.max_connections = ${max}`)
      return errorResponse(503, "too_many_connections", `The ACP server has ${max} connections open, its limit`, "retry later, or raise acp.max_connections in cca.toml", { "retry-after": "5", connection: "close" })
    }
    const { key, protocols } = credentials(req)
    let principal: AcpPrincipal | null
    try {
      principal = await this.opts.authenticate(key, req)
    } catch (e) {
      this.log.error("acp: authenticate failed:", e)
      return errorResponse(503, "unavailable", "The key store could not check the API key", "retry; see the daemon log")
    }
    if (!principal) {
      this.counters.rejectedHandshakes++
      this.log.info(`acp: rejected handshake from ${remote}: ${key === null ? "no API key" : "invalid API key"}`)
      return errorResponse(401, "unauthorized", key === null ? "An API key is required" : "The API key is not valid", `send it as "Authorization: Bearer KEY", "X-API-Key: KEY", a "${BEARER_SUBPROTOCOL_PREFIX}KEY" subprotocol or "?${TOKEN_QUERY_PARAM}=KEY"; create one with \`cca keys create\``)
    }
    const headers = protocols.includes(ACP_SUBPROTOCOL) ? { "Sec-WebSocket-Protocol": ACP_SUBPROTOCOL } : undefined
    if (max !== undefined && this.connections.size + this.upgrading >= max) {
      return errorResponse(503, "too_many_connections", `The ACP server has ${max} connections open, its limit`, "retry later, or raise acp.max_connections in cca.toml", { "retry-after": "5", connection: "close" })
    }
    // counted until its open handler runs, so handshakes authenticating at once cannot all pass the limit
    this.upgrading++
    if (server.upgrade(req, { data: { principal, remote, conn: null }, headers })) return undefined
    this.upgrading--
    return errorResponse(400, "bad_request", "WebSocket upgrade failed", "check the client's WebSocket handshake headers")
  }

  private onFrame(conn: Connection, raw: string | Buffer): void {
    this.counters.messagesIn++
    if (typeof raw !== "string" && raw.byteLength > this.maxFrameBytes) return this.tooLarge(conn, raw.byteLength, null)
    const text = typeof raw === "string" ? raw : this.decoder.decode(raw)
    if (isTooLarge(text, this.maxFrameBytes)) return this.tooLarge(conn, Buffer.byteLength(text), peekId(text))
    const frame = parseFrame(text)
    switch (frame.kind) {
      case "invalid":
        return conn.respondError(frame.id, frame.error)
      case "result":
      case "error":
        if (!conn.pending.settle(frame)) this.log.debug(`acp: answer to unknown request id ${frame.id} on connection ${conn.id}`)
        return
      case "request":
        return this.onRequest(conn, frame)
      case "notification":
        return this.onNotification(conn, frame)
    }
  }

  private tooLarge(conn: Connection, bytes: number, id: string | number | null): void {
    conn.respondError(id, { code: ErrorCode.frameTooLarge, message: `Frame too large: ${bytes} bytes, the limit is ${this.maxFrameBytes}`, data: { bytes, maxBytes: this.maxFrameBytes } })
  }

  private onRequest(conn: Connection, frame: Extract<Frame, { kind: "request" }>): void {
    const handler = requestHandlers[frame.method]
    if (!handler) return conn.respondError(frame.id, { code: ErrorCode.methodNotFound, message: `Method not found: ${frame.method}`, data: { method: frame.method } })
    if (conn.inFlight >= this.maxInFlight) {
      return conn.respondError(frame.id, { code: ErrorCode.tooManyInFlight, message: `Too many requests in flight on this connection (limit ${this.maxInFlight}); retry when some have answered` })
    }
    try {
      const result = handler(this.core, conn, frame.params)
      if (!(result instanceof Promise)) return this.reply(conn, frame, result)
      conn.inFlight++
      result
        .finally(() => conn.inFlight--)
        .then(
          (r) => this.reply(conn, frame, r),
          (e: unknown) => this.fail(conn, frame, e),
        )
    } catch (e) {
      this.fail(conn, frame, e)
    }
  }

  private reply(conn: Connection, frame: Extract<Frame, { kind: "request" }>, result: unknown): void {
    let text: string
    try {
      text = encodeResult(frame.id, result) // a host hook may return something JSON cannot carry
    } catch (e) {
      return this.fail(conn, frame, e)
    }
    conn.send(text)
  }

  private fail(conn: Connection, frame: Extract<Frame, { kind: "request" }>, e: unknown): void {
    const { error, internal } = toRpcError(e)
    if (internal) this.log.error(`acp: ${frame.method} failed on connection ${conn.id}:`, e)
    conn.respondError(frame.id, error)
  }

  // JSON-RPC never answers a notification, not even with an error; bad ones are counted and logged.
  private onNotification(conn: Connection, frame: Extract<Frame, { kind: "notification" }>): void {
    const handler = notificationHandlers[frame.method]
    try {
      if (!handler) throw new Error(`unknown notification ${frame.method}`)
      handler(this.core, conn, frame.params)
    } catch (e) {
      this.counters.errors++
      this.log.debug(`acp: dropped notification ${frame.method} on connection ${conn.id}: ${(e as Error).message}`)
    }
  }

  private onClose(ws: ServerWebSocket<ConnData>, code: number, reason: string): void {
    const conn = ws.data.conn
    if (!conn) return
    this.connections.delete(conn)
    conn.markClosed(code)
    if (conn.agentId === null) return
    const agent = this.registry.detach(conn.agentId, conn)
    if (agent && !this.stopping) {
      this.log.info(`acp: agent ${agent.agentId} disconnected (${code}${reason ? ` ${reason}` : ""})`)
      safely(this.log, "onDisconnect", () => this.core.hooks.onDisconnect?.(agent, code, reason))
    }
  }
}

function errorResponse(status: number, code: string, message: string, hint: string, headers?: Record<string, string>): Response {
  return Response.json({ error: { code, message, hint } }, { status, headers })
}

/** The API key from, in order: Authorization: Bearer, X-API-Key, an `acp.bearer.KEY` subprotocol, `?token=KEY`. */
function credentials(req: Request): { key: string | null; protocols: string[] } {
  const protocols = (req.headers.get("sec-websocket-protocol") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)
  const auth = req.headers.get("authorization")
  const bearer = auth?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim()
  const key = bearer || req.headers.get("x-api-key")?.trim() || protocols.find((p) => p.startsWith(BEARER_SUBPROTOCOL_PREFIX))?.slice(BEARER_SUBPROTOCOL_PREFIX.length) || new URL(req.url).searchParams.get(TOKEN_QUERY_PARAM) || null
  return { key, protocols }
}
