import type { ServerWebSocket } from "bun"
import type { Logger } from "../log"
import type { Clock } from "./clock"
import { AcpConnectionClosedError, type RpcErrorObject } from "./errors"
import { CloseCode } from "./protocol"
import { PendingRequests, encodeError, encodeNotification, encodeRequest, type Id } from "./rpc"

// One agent's WebSocket on the server side: sends with a bounded queue,
// requests to the agent with timeouts, and the lifetime signal that cancels
// work done on its behalf when it goes away.

/** Who the handshake's API key belongs to, as the injected `authenticate` says. */
export type AcpPrincipal = { id: string; name?: string }

export type ConnData = { principal: AcpPrincipal; remote: string; conn: Connection | null }

export type Counters = {
  messagesIn: number
  messagesOut: number
  errors: number
  rejectedHandshakes: number
  droppedConnections: number
  peakBufferedBytes: number
}

export type ConnectionContext = { counters: Counters; log: Logger; clock: Clock; maxBufferedBytes: number; /** Frames queued behind backpressure before a cut-off (acp.send_queue_limit). */ maxQueuedFrames?: number }

export class Connection {
  agentId: string | null = null
  closed = false
  /** Requests from this agent whose (async) handling has not finished. */
  inFlight = 0
  readonly pending: PendingRequests
  private lifetime = new AbortController()

  constructor(
    readonly id: number,
    private ws: ServerWebSocket<ConnData>,
    private ctx: ConnectionContext,
  ) {
    this.pending = new PendingRequests(ctx.clock)
  }

  get principal(): AcpPrincipal {
    return this.ws.data.principal
  }

  get remote(): string {
    return this.ws.data.remote
  }

  /** Aborted when the connection closes, so work for this agent (a delegation wait) stops. */
  get signal(): AbortSignal {
    return this.lifetime.signal
  }

  get bufferedBytes(): number {
    return this.closed ? 0 : this.ws.getBufferedAmount()
  }

  /**
   * Sends one frame; false if it was not sent. A peer that reads too slowly
   * is cut off here: past `maxBufferedBytes` queued, the connection closes
   * with 4008 rather than letting the queue grow.
   */
  send(text: string): boolean {
    if (this.closed || this.ws.readyState !== 1) return false
    const status = this.ws.send(text)
    if (status > 0) {
      this.queued = 0
      this.ctx.counters.messagesOut++
      return true
    }
    const buffered = this.ws.getBufferedAmount()
    if (buffered > this.ctx.counters.peakBufferedBytes) this.ctx.counters.peakBufferedBytes = buffered
    if (status === -1) this.queued++
    if (status === -1 && buffered <= this.ctx.maxBufferedBytes && this.queued <= (this.ctx.maxQueuedFrames ?? Infinity)) {
      this.ctx.counters.messagesOut++
      return true
    }
    this.cutOff(buffered)
    return false
  }

  /** Frames sent while the socket was backpressured, since it last drained. */
  private queued = 0

  /** The server's drain handler: the queue is empty again. */
  drained(): void {
    this.queued = 0
  }

  notify(method: string, params: unknown): boolean {
    return this.send(encodeNotification(method, params))
  }

  respondError(id: Id | null, error: RpcErrorObject): void {
    this.ctx.counters.errors++
    this.send(encodeError(id, error))
  }

  request(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new AcpConnectionClosedError(`${method}: the agent's connection is closed`))
    const { id, answer } = this.pending.open(method, timeoutMs)
    if (!this.send(encodeRequest(id, method, params))) this.pending.fail(id, new AcpConnectionClosedError(`${method}: the agent's connection closed before the request was sent`))
    return answer
  }

  close(code: number, reason: string): void {
    if (!this.closed) this.ws.close(code, reason)
  }

  /** Called by the server's close handler: fail what waits on this connection. */
  markClosed(code: number): void {
    if (this.closed) return
    this.closed = true
    this.lifetime.abort()
    this.pending.failAll((method) => new AcpConnectionClosedError(`${method}: the agent's connection closed (code ${code}) before it answered`))
  }

  private cutOff(buffered: number): void {
    this.ctx.counters.droppedConnections++
    const who = this.agentId ? `agent ${this.agentId}` : `connection ${this.id}`
    this.ctx.log.warn(`acp: cut off ${who} from ${this.remote}: ${this.queued} frame(s), ${buffered} bytes queued, limits ${this.ctx.maxQueuedFrames ?? "none"} / ${this.ctx.maxBufferedBytes} (the client reads too slowly)`)
    this.ws.close(CloseCode.slowConsumer, `slow consumer: send queue over ${this.ctx.maxBufferedBytes} bytes`)
  }
}
