import { describe, expect, test } from "bun:test"
import { ManualClock } from "../../src/acp/clock"
import { AcpTimeoutError, RpcError } from "../../src/acp/errors"
import { ErrorCode } from "../../src/acp/protocol"
import { PendingRequests, isTooLarge, parseFrame, peekId } from "../../src/acp/rpc"
import { KEY, RawSocket, startServer } from "./support"

describe("parseFrame", () => {
  test("tells requests, notifications, results and errors apart", () => {
    expect(parseFrame('{"jsonrpc":"2.0","id":"a","method":"m","params":{"x":1}}')).toEqual({ kind: "request", id: "a", method: "m", params: { x: 1 } })
    expect(parseFrame('{"jsonrpc":"2.0","method":"m"}')).toEqual({ kind: "notification", method: "m", params: undefined })
    expect(parseFrame('{"jsonrpc":"2.0","id":3,"result":null}')).toEqual({ kind: "result", id: 3, result: null })
    expect(parseFrame('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}')).toEqual({ kind: "error", id: null, error: { code: -32700, message: "x", data: undefined } })
  })

  test("a response with both result and error, or a malformed error, is invalid", () => {
    expect(parseFrame('{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"x"}}')).toMatchObject({ kind: "invalid", id: 1, error: { code: ErrorCode.invalidRequest } })
    expect(parseFrame('{"jsonrpc":"2.0","id":1,"error":"boom"}')).toMatchObject({ kind: "invalid", id: 1 })
  })

  test("peekId recovers the id from the start of an oversized frame only", () => {
    expect(peekId(`{"jsonrpc":"2.0","id":42,"method":"x","params":{"a":"${"z".repeat(100)}"}}`)).toBe(42)
    expect(peekId(`{"jsonrpc":"2.0","id":"req-7","method":"x"}`)).toBe("req-7")
    expect(peekId(`{"jsonrpc":"2.0","method":"x","params":{"id":5}}`)).toBeNull()
    expect(peekId("not json at all")).toBeNull()
  })

  test("isTooLarge counts UTF-8 bytes", () => {
    expect(isTooLarge("a".repeat(100), 100)).toBe(false)
    expect(isTooLarge("a".repeat(101), 100)).toBe(true)
    expect(isTooLarge("€".repeat(34), 100)).toBe(true) // 102 bytes in 34 characters
    expect(isTooLarge("€".repeat(33), 100)).toBe(false)
  })
})

describe("ManualClock and PendingRequests", () => {
  test("timers run in time order; intervals repeat; cancelled ones never run", () => {
    const clock = new ManualClock(0)
    const ran: string[] = []
    clock.setTimeout(() => ran.push(`b@${clock.now()}`), 20)
    clock.setTimeout(() => ran.push(`a@${clock.now()}`), 10)
    const every = clock.setInterval(() => ran.push(`i@${clock.now()}`), 15)
    clock.setTimeout(() => ran.push("never"), 5).cancel()
    clock.advance(30)
    expect(ran).toEqual(["a@10", "i@15", "b@20", "i@30"])
    every.cancel()
    clock.advance(100)
    expect(ran).toHaveLength(4)
    expect(clock.now()).toBe(130)
  })

  test("a request fails with its timeout, a late answer is ignored, an error answer becomes RpcError", async () => {
    const clock = new ManualClock()
    const p = new PendingRequests(clock)
    const slow = p.open("task_assign", 1000)
    const failing = p.open("broadcast", 1000)
    clock.advance(1000)
    expect(await slow.answer.catch((e: unknown) => e)).toBeInstanceOf(AcpTimeoutError)
    expect(p.settle({ kind: "result", id: slow.id, result: 1 })).toBe(false)
    expect(await failing.answer.catch((e: unknown) => e)).toBeInstanceOf(AcpTimeoutError)
    const bad = p.open("x", 1000)
    p.settle({ kind: "error", id: bad.id, error: { code: -32602, message: "nope", data: { issues: [] } } })
    const err = (await bad.answer.catch((e: unknown) => e)) as RpcError
    expect(err).toBeInstanceOf(RpcError)
    expect([err.rpcCode, err.message]).toEqual([-32602, "nope"])
    expect(p.size).toBe(0)
  })
})

test("a hook answer JSON cannot carry is an internal error, and the connection lives on", async () => {
  await using s = await startServer({ hooks: { onDelegate: async () => ({ taskId: "t", result: { taskId: "t", status: "completed", data: 10n } }) } })
  const sock = await RawSocket.open(s.url, { headers: { Authorization: `Bearer ${KEY}` } })
  await sock.register("a")
  const r = await sock.call("agent.delegate", { prompt: "x" }, 2)
  expect(r.error?.code).toBe(ErrorCode.internalError)
  expect(s.lines.some((l) => l.startsWith("error") && l.includes("agent.delegate failed"))).toBe(true)
  expect((await sock.call("health_check", {}, 3)).result.status).toBe("ok")
  await sock.close()
})
