import { afterEach, describe, expect, test } from "bun:test"
import { defaultReply, parseSse, readConversation, ruleMatches, sseEvents, toMessage, type Rule } from "./model-script"
import { startModelServer, type ModelServer } from "./model-server"

// The scripted model server: rule matching and reading of requests (pure),
// SSE framing, and the server over a real socket.

const reminder = { type: "text", text: "<system-reminder>\nattribution rules\n</system-reminder>\n" }

/** A request body shaped like Claude Code 2.1.328's. */
function body(messages: unknown[], extra: Record<string, unknown> = {}) {
  return {
    model: "claude-sonnet-4-5",
    max_tokens: 32000,
    stream: true,
    system: [{ type: "text", text: "x-anthropic-billing-header: cc_version=2.1.328" }, { type: "text", text: "You are Claude Code." }],
    tools: [{ name: "Bash" }, { name: "Read" }],
    messages,
    ...extra,
  }
}

describe("readConversation", () => {
  test("the last user text skips system reminders and takes the last typed block", () => {
    const c = readConversation(
      body([
        { role: "user", content: [reminder, { type: "text", text: "first" }] },
        { role: "assistant", content: [{ type: "text", text: "hello" }] },
        { role: "user", content: [{ type: "text", text: "slow please\n" }, { type: "text", text: "[Request interrupted by user]\n" }, { type: "text", text: "after interrupt" }] },
      ]),
    )
    expect(c.lastUserText).toBe("after interrupt")
    expect(c.turns).toBe(3)
    expect(c.system).toContain("You are Claude Code.")
    expect(c.tools).toEqual(["Bash", "Read"])
    expect(c.side).toBe(false)
    expect(c.stream).toBe(true)
  })

  test("string content, and a tool result named after its tool_use", () => {
    const c = readConversation(
      body([
        { role: "user", content: "run it" },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "Bash", input: { command: "ls" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "Permission denied" }], is_error: true }] },
      ]),
    )
    expect(c.lastUserText).toBe("run it")
    expect(c.toolResults).toEqual([{ toolUseId: "toolu_1", name: "Bash", text: "Permission denied", isError: true }])
  })

  test("a request with no tools and no tool results is a side request; its schema gets a matching default", () => {
    const schema = { type: "object", properties: { title: { type: "string" } }, required: ["title"] }
    const c = readConversation(body([{ role: "user", content: "<session>hi</session>" }], { tools: [], output_config: { format: { type: "json_schema", schema } } }))
    expect(c.side).toBe(true)
    expect(c.outputSchema).toEqual(schema)
    expect(JSON.parse(defaultReply(c).content as string)).toEqual({ title: "Scripted session" })
    expect(defaultReply(readConversation(body([{ role: "user", content: "hi" }])))).toEqual({ content: "ok" })
  })
})

describe("ruleMatches", () => {
  const c = readConversation(
    body([
      { role: "user", content: "please deploy" },
      { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "mcp__cca__echo", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "echo: hi" }] },
    ]),
  )
  const rule = (match: Rule["match"]): Rule => ({ match, reply: { content: "x" } })

  test("each criterion can fail on its own", () => {
    expect(ruleMatches(rule({ lastUserText: "deploy" }), c)).toBe(true)
    expect(ruleMatches(rule({ lastUserText: "rollback" }), c)).toBe(false)
    expect(ruleMatches(rule({ lastUserText: /^please/ }), c)).toBe(true)
    expect(ruleMatches(rule({ toolResult: true }), c)).toBe(true)
    expect(ruleMatches(rule({ toolResult: false }), c)).toBe(false)
    expect(ruleMatches(rule({ toolResult: { name: "mcp__cca__echo", text: /^echo/ } }), c)).toBe(true)
    expect(ruleMatches(rule({ toolResult: { name: "Bash" } }), c)).toBe(false)
    expect(ruleMatches(rule({ toolResult: { isError: true } }), c)).toBe(false)
    expect(ruleMatches(rule({ model: "sonnet" }), c)).toBe(true)
    expect(ruleMatches(rule({ model: "haiku" }), c)).toBe(false)
    expect(ruleMatches(rule({ system: "Claude Code" }), c)).toBe(true)
    expect(ruleMatches(rule({ system: "pirate" }), c)).toBe(false)
    expect(ruleMatches(rule({ tool: "Read" }), c)).toBe(true)
    expect(ruleMatches(rule({ tool: "WebFetch" }), c)).toBe(false)
    expect(ruleMatches(rule({ side: true }), c)).toBe(false)
    expect(ruleMatches(rule((x) => x.turns === 3), c)).toBe(true)
    expect(ruleMatches(rule({ lastUserText: "deploy", model: "haiku" }), c)).toBe(false) // all criteria must hold
  })
})

describe("SSE framing", () => {
  test("text and tool_use blocks stream as Claude Code expects, and reassemble to the message", () => {
    const message = toMessage(
      {
        content: [
          { type: "text", text: "Let me look." },
          { type: "tool_use", name: "Bash", input: { command: "ls -la", description: "list" } },
        ],
        usage: { input: 100, output: 20, cacheCreation: 7, cacheRead: 300 },
      },
      "claude-sonnet-4-5",
    )
    const raw = sseEvents(message).join("")
    for (const frame of raw.split("\n\n").filter(Boolean)) expect(frame).toMatch(/^event: [a-z_]+\ndata: \{.*\}$/)
    const events = parseSse(raw)
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ])
    for (const e of events) expect(e.data.type).toBe(e.event)
    const start = events[0]!.data.message as Record<string, unknown>
    expect(start.usage).toMatchObject({ input_tokens: 100, cache_creation_input_tokens: 7, cache_read_input_tokens: 300 })
    expect(start.content).toEqual([])

    const text = events.filter((e) => e.event === "content_block_delta" && e.data.index === 0).map((e) => (e.data.delta as { type: string; text: string }))
    expect(text.every((d) => d.type === "text_delta")).toBe(true)
    expect(text.map((d) => d.text).join("")).toBe("Let me look.")
    const json = events.filter((e) => e.event === "content_block_delta" && e.data.index === 1).map((e) => e.data.delta as { type: string; partial_json: string })
    expect(json.every((d) => d.type === "input_json_delta")).toBe(true)
    expect(JSON.parse(json.map((d) => d.partial_json).join(""))).toEqual({ command: "ls -la", description: "list" })
    const toolStart = events[5]!.data.content_block as { type: string; id: string; name: string }
    expect(toolStart).toMatchObject({ type: "tool_use", name: "Bash" })
    expect(toolStart.id).toMatch(/^toolu_/)

    const delta = events.at(-2)!.data
    expect(delta.delta).toEqual({ stop_reason: "tool_use", stop_sequence: null })
    expect(delta.usage).toMatchObject({ output_tokens: 20 })
  })

  test("text only ends with end_turn unless told otherwise", () => {
    expect(toMessage({ content: "hi" }, "m").stop_reason).toBe("end_turn")
    expect(toMessage({ content: "hi", stopReason: "max_tokens" }, "m").stop_reason).toBe("max_tokens")
  })
})

describe("the server", () => {
  let server: ModelServer | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })
  const post = (path: string, payload: unknown, signal?: AbortSignal) =>
    fetch(`${server!.url}${path}`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": "k" }, body: JSON.stringify(payload), signal })

  test("answers streaming and non-streaming by rule, first match wins, `times` limits a rule, and records every request", async () => {
    server = await startModelServer([
      { name: "once", match: { lastUserText: "hello" }, reply: { content: "first hello" }, times: 1 },
      { name: "again", match: { lastUserText: "hello" }, reply: { content: "later hello", usage: { input: 3, output: 2 } } },
    ])
    const first = await post("/v1/messages?beta=true", body([{ role: "user", content: "hello" }]))
    expect(first.headers.get("content-type")).toBe("text/event-stream")
    const events = parseSse(await first.text())
    expect(events.filter((e) => e.event === "content_block_delta").map((e) => (e.data.delta as { text: string }).text).join("")).toBe("first hello")

    const second = await post("/v1/messages", body([{ role: "user", content: "hello" }], { stream: false }))
    const message = (await second.json()) as { content: { text: string }[]; usage: Record<string, number>; stop_reason: string }
    expect(message.content[0]!.text).toBe("later hello")
    expect(message.usage).toEqual({ input_tokens: 3, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 })
    expect(message.stop_reason).toBe("end_turn")

    const other = await post("/v1/messages", body([{ role: "user", content: "something else" }], { stream: false }))
    expect(((await other.json()) as { content: { text: string }[] }).content[0]!.text).toBe("ok")

    expect(server.requests.map((r) => [r.path, r.query, r.rule])).toEqual([
      ["/v1/messages", "?beta=true", "once"],
      ["/v1/messages", "", "again"],
      ["/v1/messages", "", "default"],
    ])
    expect(server.requests[0]!.headers["x-api-key"]).toBe("k")
    expect(server.turns()).toHaveLength(3)
  })

  test("a usage option reports usage computed from the request body, over the rule's", async () => {
    server = await startModelServer([{ reply: { content: "hi", usage: { input: 3, output: 2 } } }], { usage: (b) => ({ input: JSON.stringify((b as { messages: unknown }).messages).length }) })
    const messages = [{ role: "user", content: "count what I sent" }]
    const r = (await (await post("/v1/messages", body(messages, { stream: false }))).json()) as { usage: Record<string, number> }
    expect(r.usage).toEqual({ input_tokens: JSON.stringify(messages).length, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 })
  })

  test("count_tokens, HEAD and unknown routes", async () => {
    server = await startModelServer()
    const count = await post("/v1/messages/count_tokens", body([{ role: "user", content: "count me" }]))
    expect(((await count.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0)
    expect((await fetch(`${server.url}/`, { method: "HEAD" })).status).toBe(200)
    expect((await fetch(`${server.url}/api/hello`, { method: "HEAD" })).status).toBe(200)
    const missing = await fetch(`${server.url}/v1/files`)
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe("not_found_error")
    expect((await post("/v1/messages", "not an object")).status).toBe(400)
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /v1/messages/count_tokens", "HEAD /", "HEAD /api/hello", "GET /v1/files", "POST /v1/messages"])
  })

  test("API errors by rule", async () => {
    server = await startModelServer([{ match: { lastUserText: "overload" }, reply: { content: "", error: { status: 529, type: "overloaded_error", message: "busy" } } }])
    const r = await post("/v1/messages", body([{ role: "user", content: "overload" }]))
    expect(r.status).toBe(529)
    expect(await r.json()).toEqual({ type: "error", error: { type: "overloaded_error", message: "busy" } })
  })

  test("a delayed answer is recorded on arrival and marked aborted when the client hangs up", async () => {
    server = await startModelServer([{ match: { lastUserText: "slow" }, reply: { content: "late", delayMs: 60_000 } }])
    const ctl = new AbortController()
    const pending = post("/v1/messages", body([{ role: "user", content: "slow" }]), ctl.signal).catch((e: unknown) => e)
    const arrived = await server.waitFor((r) => r.conversation?.lastUserText === "slow", 5_000)
    expect(arrived.aborted).toBeUndefined()
    ctl.abort()
    await pending
    const aborted = await server.waitFor((r) => r.aborted === true, 5_000)
    expect(aborted.seq).toBe(arrived.seq)
  })

  test("waitFor fails loudly when nothing matches in time", async () => {
    server = await startModelServer()
    await expect(server.waitFor(() => false, 50)).rejects.toThrow("no matching request within 50 ms")
  })
})
