import * as v from "valibot"
import type { Clock, Timer } from "./clock"
import { AcpTimeoutError, RpcError, invalidParams, type RpcErrorObject } from "./errors"
import { ErrorCode, JSONRPC_VERSION } from "./protocol"

// JSON-RPC 2.0 framing shared by server and client: classify one text frame,
// encode answers, validate params, and track requests awaiting an answer.
// The envelope is checked by hand (it is on every frame's hot path); params
// go through the method's valibot schema.

export type Id = string | number

export type Frame =
  | { kind: "request"; id: Id; method: string; params: unknown }
  | { kind: "notification"; method: string; params: unknown }
  | { kind: "result"; id: Id; result: unknown }
  | { kind: "error"; id: Id | null; error: RpcErrorObject }
  /** Not a usable message: answer with `error` (parse error or invalid request). */
  | { kind: "invalid"; id: Id | null; error: RpcErrorObject }

const isId = (x: unknown): x is Id => typeof x === "string" || (typeof x === "number" && Number.isFinite(x))

function invalid(id: Id | null, message: string): Frame {
  return { kind: "invalid", id, error: { code: ErrorCode.invalidRequest, message } }
}

export function parseFrame(text: string): Frame {
  let msg: unknown
  try {
    msg = JSON.parse(text)
  } catch (e) {
    return { kind: "invalid", id: null, error: { code: ErrorCode.parseError, message: `Parse error: ${(e as Error).message}` } }
  }
  if (Array.isArray(msg)) return invalid(null, "Invalid request: batch requests are not supported; send one message per frame")
  if (typeof msg !== "object" || msg === null) return invalid(null, "Invalid request: a message must be a JSON object")
  const m = msg as Record<string, unknown>
  const id = isId(m.id) ? m.id : null
  if (m.jsonrpc !== JSONRPC_VERSION) return invalid(id, 'Invalid request: "jsonrpc" must be "2.0"')
  if ("method" in m) {
    if (typeof m.method !== "string" || m.method === "") return invalid(id, 'Invalid request: "method" must be a non-empty string')
    if (m.params !== undefined && (typeof m.params !== "object" || m.params === null)) return invalid(id, 'Invalid request: "params" must be an object or an array')
    if (!("id" in m)) return { kind: "notification", method: m.method, params: m.params }
    if (id === null) return invalid(null, 'Invalid request: "id" must be a string or a number')
    return { kind: "request", id, method: m.method, params: m.params }
  }
  if ("result" in m && !("error" in m)) {
    if (id === null) return invalid(null, 'Invalid response: "id" must be a string or a number')
    return { kind: "result", id, result: m.result }
  }
  if ("error" in m && !("result" in m)) {
    const err = m.error as Record<string, unknown> | null
    if (typeof err !== "object" || err === null || typeof err.code !== "number" || typeof err.message !== "string") {
      return invalid(id, 'Invalid response: "error" must be { code: number, message: string }')
    }
    return { kind: "error", id, error: { code: err.code, message: err.message, data: err.data } }
  }
  return invalid(id, 'Invalid request: a message needs "method" (a request or notification) or one of "result"/"error" (a response)')
}

export const encodeRequest = (id: Id, method: string, params: unknown) => JSON.stringify({ jsonrpc: JSONRPC_VERSION, id, method, params })
export const encodeNotification = (method: string, params: unknown) => JSON.stringify({ jsonrpc: JSONRPC_VERSION, method, params })
export const encodeResult = (id: Id, result: unknown) => JSON.stringify({ jsonrpc: JSONRPC_VERSION, id, result: result ?? null })
export const encodeError = (id: Id | null, error: RpcErrorObject) => JSON.stringify({ jsonrpc: JSONRPC_VERSION, id, error })

/** Over the limit in UTF-8 bytes? Decided from the string's length alone when it can be. */
export function isTooLarge(text: string, maxBytes: number): boolean {
  if (text.length > maxBytes) return true
  if (text.length * 3 <= maxBytes) return false
  return Buffer.byteLength(text) > maxBytes
}

/** The id of a frame too large to parse, if it starts like one of ours (`{"jsonrpc":"2.0","id":...`). */
export function peekId(text: string): Id | null {
  const m = /^\s*\{[^{}[\]]{0,64}?"id"\s*:\s*("(?:[^"\\]|\\.){0,200}"|-?\d{1,15})\s*[,}]/.exec(text.slice(0, 300))
  if (!m) return null
  try {
    const id: unknown = JSON.parse(m[1]!)
    return isId(id) ? id : null
  } catch {
    return null
  }
}

/** A value checked against its schema; a failure names every issue with its dotted path. */
export function validate<S extends v.GenericSchema>(schema: S, value: unknown, what = "params"): v.InferOutput<S> {
  const r = v.safeParse(schema, value)
  if (r.success) return r.output
  throw invalidParams(
    r.issues.map((i) => ({ path: v.getDotPath(i) ?? "", message: i.message })),
    what,
  )
}

type Waiter = { method: string; resolve(value: unknown): void; reject(err: Error): void; timer: Timer }

/** Requests sent and awaiting an answer; each fails on its own timeout or when the connection goes. */
export class PendingRequests {
  private waiting = new Map<Id, Waiter>()
  private nextId = 1

  constructor(private clock: Clock) {}

  get size(): number {
    return this.waiting.size
  }

  /** Reserves an id and returns it with the promise of the answer. */
  open(method: string, timeoutMs: number): { id: number; answer: Promise<unknown> } {
    const id = this.nextId++
    const answer = new Promise<unknown>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.waiting.delete(id)
        reject(new AcpTimeoutError(`${method} got no answer within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiting.set(id, { method, resolve, reject, timer })
    })
    return { id, answer }
  }

  /** Settles the request a response answers; false when no request has that id (late or unknown). */
  settle(frame: Extract<Frame, { kind: "result" | "error" }>): boolean {
    if (frame.id === null) return false
    const w = this.waiting.get(frame.id)
    if (!w) return false
    this.waiting.delete(frame.id)
    w.timer.cancel()
    if (frame.kind === "result") w.resolve(frame.result)
    else w.reject(RpcError.from(frame.error))
    return true
  }

  fail(id: Id, err: Error): void {
    const w = this.waiting.get(id)
    if (!w) return
    this.waiting.delete(id)
    w.timer.cancel()
    w.reject(err)
  }

  failAll(makeError: (method: string) => Error): void {
    const all = [...this.waiting.values()]
    this.waiting.clear()
    for (const w of all) {
      w.timer.cancel()
      w.reject(makeError(w.method))
    }
  }
}
