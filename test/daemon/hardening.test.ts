import { afterAll, beforeAll, expect, test } from "bun:test"
import { signal, taskEvent, testDaemon, type TestDaemon } from "./harness"
import { jsonDepthExceeds } from "../../src/daemon/body-check"
import { storableParams } from "../../src/store/sql"

// Probe items 1-4 of issue 15 (HTTP and ACP): nested and oversized bodies,
// NUL in any text, malformed query values and ACP frames.

let t: TestDaemon
beforeAll(async () => {
  t = await testDaemon({ daemon: { body_limit: 256 * 1024, sse_per_key: 2, sse_per_ip: 3 } })
}, 60_000)
afterAll(async () => {
  await t[Symbol.asyncDispose]()
})

test("the depth scan counts brackets outside strings only", () => {
  expect(jsonDepthExceeds("[[[]]]", 3)).toBe(false)
  expect(jsonDepthExceeds("[[[[]]]]", 3)).toBe(true)
  expect(jsonDepthExceeds(`{"a":"[[[[[[\\"[[["}`, 2)).toBe(false)
})

test("a body nested 100k deep is a 400 answered at once, and another request is not held up", async () => {
  const deep = "[".repeat(100_000)
  const t0 = performance.now()
  const [res, health] = await Promise.all([t.req("POST", "/api/v1/tasks", { body: deep }), t.req("GET", "/api/v1/health")])
  expect(res.status).toBe(400)
  expect(((await res.json()) as { error: { message: string; code: string } }).error.message).toContain("nests deeper than")
  expect(health.status).toBe(200)
  expect(performance.now() - t0).toBeLessThan(2000)
  const nestedMeta = { description: "x", metadata: { a: JSON.parse("[".repeat(70) + "]".repeat(70)) } }
  expect((await t.req("POST", "/api/v1/tasks", { body: nestedMeta })).status).toBe(400)
})

test("a body over the limit gets a JSON 413, with or without a content-length", async () => {
  const big = JSON.stringify({ description: "x".repeat(300 * 1024) })
  const res = await t.req("POST", "/api/v1/tasks", { body: big })
  expect(res.status).toBe(413)
  expect(((await res.json()) as { error: { message: string; code: string } }).error.code).toBe("payload_too_large")
  // chunked: no content-length, the body is counted as it is read
  const stream = new ReadableStream({
    start(c) {
      for (let i = 0; i < 30; i++) c.enqueue(new TextEncoder().encode("x".repeat(10_000)))
      c.close()
    },
  })
  const chunked = await t.daemon.app.handle(new Request("http://localhost/api/v1/tasks", { method: "POST", body: stream, headers: { authorization: `Bearer ${t.key}`, "content-type": "application/json" } }), "127.0.0.1")
  expect(chunked.status).toBe(413)
  expect(((await chunked.json()) as { error: { code: string } }).error.code).toBe("payload_too_large")
})

test("a NUL in any request text is a 400 naming the field, never a 500", async () => {
  const cases: [string, string, unknown, string][] = [
    ["POST", "/api/v1/tasks", { description: "a\u0000b" }, "body.description"],
    ["POST", "/api/v1/tasks", { description: "ok", prompt: "p\u0000" }, "body.prompt"],
    ["POST", "/api/v1/tasks", { description: "ok", metadata: { note: "n\u0000" } }, "body.metadata.note"],
  ]
  for (const [method, path, body, field] of cases) {
    const r = await t.json(method, path, body)
    expect(r.status).toBe(400)
    expect(r.body.error.details.field).toBe(field)
  }
  const created = await t.json("POST", "/api/v1/tasks", { description: "to cancel", role: "nobody-here" })
  expect(created.status).toBe(202)
  const cancel = await t.json("POST", `/api/v1/tasks/${created.body.id}/cancel`, { reason: "r\u0000" })
  expect(cancel.status).toBe(400)
  expect(cancel.body.error.details.field).toBe("body.reason")
  for (const q of ["/api/v1/tasks?role=%00", "/api/v1/tasks?agentId=%00", "/api/v1/agents?role=%00"]) {
    const r = await t.req("GET", q)
    expect(r.status).toBe(400)
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain("NUL")
  }
})

test("/activity?after= out of range is a 400", async () => {
  for (const after of ["99999999999999999999", "Infinity", "-1", "1e3"]) {
    const r = await t.req("GET", `/api/v1/activity?after=${after}`)
    expect(r.status).toBe(400)
  }
  expect((await t.req("GET", "/api/v1/activity?after=5")).status).toBe(200)
})

test("the storage rule: U+0000 becomes U+FFFD in strings and in jsonb objects, keys included", () => {
  const date = new Date()
  const out = storableParams(["a\u0000", 1, { "k\u0000": ["v\u0000"] }, date, null])!
  expect(out).toEqual(["a\uFFFD", 1, { "k\uFFFD": ["v\uFFFD"] }, date, null])
  const same = ["plain", { a: 1 }]
  expect(storableParams(same)).toBe(same)
})

test("an agent's answer with a NUL completes its task (stored with U+FFFD)", async () => {
  const offered = signal<string>()
  const a = await t.agent("nul-1", "nul-role", { taskAssign: (p) => (offered.resolve(p.taskId), { accepted: true }) })
  const { body } = await t.json("POST", "/api/v1/tasks", { description: "answer with a NUL", role: "nul-role" })
  expect(await offered.promise).toBe(body.id)
  const completed = taskEvent(t, body.id, "completed")
  const ack = await a.result({ taskId: body.id, status: "completed", output: "before\u0000after" })
  expect(ack).toBeDefined()
  await completed
  const got = (await t.json("GET", `/api/v1/tasks/${body.id}`)).body
  expect(got).toMatchObject({ status: "completed", result: "before\uFFFDafter" })
  await a.close()
})

test("an ACP register with a NUL is stored, and no malformed frame gets an internal error", async () => {
  const reg = await t.agent("nul\u0000agent", "r\u0000ole")
  await reg.close()
  const ws = new WebSocket(t.daemon.acp, { headers: { authorization: `Bearer ${t.key}` } } as unknown as string[])
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve()
    ws.onerror = () => reject(new Error("acp socket failed"))
  })
  const answers = new Map<number, { code: number }>()
  let waiting: (() => void) | undefined
  let expected = 0
  ws.onmessage = (m) => {
    const f = JSON.parse(String(m.data)) as { id?: unknown; error?: { code: number }; method?: string }
    if (f.method) return
    answers.set(answers.size, f.error ?? { code: 0 })
    if (answers.size >= expected) waiting?.()
  }
  const frames: string[] = [
    "{", "[]", "null", "42", '"x"', "[".repeat(100_000), '{"jsonrpc":"2.0"}', '{"jsonrpc":"1.0","id":1,"method":"x"}',
    '{"jsonrpc":"2.0","id":{},"method":"agent.register"}', '{"jsonrpc":"2.0","id":1,"method":"agent.register","params":7}',
    '{"jsonrpc":"2.0","id":2,"method":"agent.register","params":{}}', '{"jsonrpc":"2.0","id":3,"method":"agent.register","params":{"agentId":"","role":1}}',
    '{"jsonrpc":"2.0","id":4,"method":"task_result","params":{"taskId":"\\u0000","status":"completed"}}',
    '{"jsonrpc":"2.0","id":5,"method":"agent.register","params":{"agentId":"f\\u0000","role":"r\\u0000","capabilities":["\\u0000"]}}',
    '{"jsonrpc":"2.0","id":6,"method":"task_result","params":{"taskId":"nope","status":"completed","tokens":{"input":1e400}}}',
    '{"jsonrpc":"2.0","id":7,"method":"task_result","params":{"taskId":"nope","status":"weird"}}',
  ]
  for (let i = 0; i < 200; i++) frames.push(JSON.stringify({ jsonrpc: "2.0", id: 100 + i, method: ["agent.register", "task_result", "agent.heartbeat"][i % 3], params: fuzz(i) }))
  expected = frames.length
  const all = new Promise<void>((r) => (waiting = r))
  for (const f of frames) ws.send(f)
  await all
  ws.close()
  const internal = [...answers.values()].filter((e) => e.code === -32603)
  expect(internal).toEqual([])
  expect(answers.size).toBe(frames.length)
})

function fuzz(i: number): unknown {
  const values: unknown[] = ["\u0000", "", "x".repeat(300), -1, 1e308, null, true, [], {}, [[["deep"]]], { agentId: "\u0000" }]
  const keys = ["agentId", "role", "taskId", "status", "output", "capabilities", "tokens", "error", "host"]
  const o: Record<string, unknown> = {}
  for (let k = 0; k < 1 + (i % 4); k++) o[keys[(i * 7 + k) % keys.length]!] = values[(i * 3 + k) % values.length]
  if (i % 5 === 0) o.agentId = `fz-${i}`
  if (i % 5 === 0) o.role = "fuzz"
  return o
}

test("event streams are capped per key and per address", async () => {
  const { body } = await t.json("POST", "/api/v1/tasks", { description: "watched", role: "nobody-here" })
  const open = async (ip: string) => t.req("GET", `/api/v1/tasks/${body.id}/events`, { ip })
  const a = await open("10.0.0.1")
  const b = await open("10.0.0.2")
  expect([a.status, b.status]).toEqual([200, 200])
  const c = await open("10.0.0.3")
  expect(c.status).toBe(429)
  expect(((await c.json()) as { error: { code: string } }).error.code).toBe("too_many_streams")
  await a.body!.cancel()
  const d = await open("10.0.0.3")
  expect(d.status).toBe(200)
  await b.body!.cancel()
  await d.body!.cancel()
})

test("an unauthenticated request for an event stream gets 401 and its socket is closed at once", async () => {
  const url = new URL(t.daemon.http)
  const closed = signal<string>()
  let got = ""
  const socket = await Bun.connect({
    hostname: url.hostname,
    port: Number(url.port),
    socket: {
      data(_s, d) {
        got += d.toString()
      },
      close() {
        closed.resolve(got)
      },
      error() {
        closed.resolve(got)
      },
    },
  })
  socket.write(`GET /api/v1/tasks/x/events HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`)
  const text = await Promise.race([closed.promise, Bun.sleep(5000).then(() => "still open after 5 s")])
  expect(text).toStartWith("HTTP/1.1 401")
  socket.end()
})
