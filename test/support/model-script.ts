// The pure half of the scripted model server: how a request body is read
// (the conversation as a test sees it), how rules match it, and how a reply is
// framed as the Anthropic Messages API frames it (JSON or server-sent events).
// No I/O here, so the unit tests cover all of it directly.

export type Usage = { input: number; output: number; cacheCreation: number; cacheRead: number }

export type TextBlock = { type: "text"; text: string }
export type ToolUseBlock = { type: "tool_use"; name: string; input: Record<string, unknown>; id?: string }
export type ReplyBlock = TextBlock | ToolUseBlock

export type StopReason = "end_turn" | "tool_use" | "max_tokens" | "stop_sequence"

export type Reply = {
  /** Plain text, or content blocks (text and tool_use). */
  content: string | ReplyBlock[]
  /** Defaults to `tool_use` when a tool_use block is present, else `end_turn`. */
  stopReason?: StopReason
  usage?: Partial<Usage>
  /** Wait this long before answering (aborted when the client hangs up). */
  delayMs?: number
  /** Answer with an API error instead (e.g. 529 overloaded_error). */
  error?: { status: number; type: string; message: string }
}

export type ToolResult = { toolUseId: string; name?: string; text: string; isError: boolean }

/** What a rule sees of one `POST /v1/messages` request. */
export type Conversation = {
  model: string
  stream: boolean
  maxTokens: number | undefined
  system: string
  /** Tool names offered to the model. */
  tools: string[]
  /** The last text the user typed: the last non-reminder text block of the last user message with one. */
  lastUserText: string | undefined
  /** tool_result blocks of the last message (when it is a user message), with the tool's name looked up. */
  toolResults: ToolResult[]
  /** Number of messages in the request. */
  turns: number
  /** A side request Claude Code makes on its own (title, summary, quota probe), not a turn of the agent. */
  side: boolean
  /** The JSON schema the answer must follow (output_config.format), e.g. the session title's {title}. */
  outputSchema: unknown
}

export type Pattern = string | RegExp

export type Match = {
  lastUserText?: Pattern
  /** true: the last message carries a tool result; false: it carries none; object: one result matches. */
  toolResult?: boolean | { name?: Pattern; text?: Pattern; isError?: boolean }
  system?: Pattern
  model?: Pattern
  /** A tool of this name is offered. */
  tool?: Pattern
  side?: boolean
}

export type Rule = {
  name?: string
  match?: Match | ((c: Conversation) => boolean)
  reply: Reply | ((c: Conversation) => Reply)
  /** Answer at most this many times, then stop matching. */
  times?: number
}

const DEFAULT_USAGE: Usage = { input: 10, output: 5, cacheCreation: 0, cacheRead: 0 }

type Json = Record<string, unknown>

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v)
}

function blocksOf(content: unknown): Json[] {
  if (typeof content === "string") return [{ type: "text", text: content }]
  return Array.isArray(content) ? content.filter(isObject) : []
}

function textOf(content: unknown): string {
  return blocksOf(content)
    .map((b) => (b.type === "text" && typeof b.text === "string" ? b.text : ""))
    .join("")
}

// Claude Code puts <system-reminder> blocks into user messages; they are not
// what the user typed.
const isReminder = (text: string) => text.trimStart().startsWith("<system-reminder>")

/**
 * Problem: Claude Code makes requests that are not turns of the agent (a
 * session title, a summary, a quota probe) with a small model.
 * Why: a test scripting the agent must not have its rules eaten by them.
 * Fix: a request is "side" when it offers no tools and is not a follow-up
 * of a tool call; the agent's own turns always offer tools.
 */
function isSideRequest(tools: string[], messages: Json[]): boolean {
  return tools.length === 0 && !messages.some((m) => blocksOf(m.content).some((b) => b.type === "tool_result"))
}

export function readConversation(body: unknown): Conversation {
  const b = isObject(body) ? body : {}
  const messages = Array.isArray(b.messages) ? b.messages.filter(isObject) : []
  const tools = Array.isArray(b.tools) ? b.tools.filter(isObject).map((t) => String(t.name ?? "")) : []

  let lastUserText: string | undefined
  for (let i = messages.length - 1; i >= 0 && lastUserText === undefined; i--) {
    if (messages[i]!.role !== "user") continue
    const texts = blocksOf(messages[i]!.content)
      .filter((x) => x.type === "text" && typeof x.text === "string" && !isReminder(x.text as string))
      .map((x) => x.text as string)
    if (texts.length > 0) lastUserText = texts.at(-1)!.trim()
  }

  const names = new Map<string, string>()
  for (const m of messages) for (const x of blocksOf(m.content)) if (x.type === "tool_use") names.set(String(x.id), String(x.name))
  const last = messages.at(-1)
  const toolResults: ToolResult[] =
    last?.role === "user"
      ? blocksOf(last.content)
          .filter((x) => x.type === "tool_result")
          .map((x) => ({ toolUseId: String(x.tool_use_id), name: names.get(String(x.tool_use_id)), text: textOf(x.content), isError: x.is_error === true }))
      : []

  return {
    model: String(b.model ?? ""),
    stream: b.stream === true,
    maxTokens: typeof b.max_tokens === "number" ? b.max_tokens : undefined,
    system: typeof b.system === "string" ? b.system : textOf(b.system),
    tools,
    lastUserText,
    toolResults,
    turns: messages.length,
    side: isSideRequest(tools, messages),
    outputSchema: isObject(b.output_config) && isObject(b.output_config.format) && b.output_config.format.type === "json_schema" ? b.output_config.format.schema : undefined,
  }
}

export function matches(p: Pattern, value: string | undefined): boolean {
  if (value === undefined) return false
  return typeof p === "string" ? value.includes(p) : p.test(value)
}

function matchToolResult(m: NonNullable<Match["toolResult"]>, results: ToolResult[]): boolean {
  if (typeof m === "boolean") return m === results.length > 0
  return results.some((r) => (m.name === undefined || matches(m.name, r.name)) && (m.text === undefined || matches(m.text, r.text)) && (m.isError === undefined || m.isError === r.isError))
}

export function ruleMatches(rule: Rule, c: Conversation): boolean {
  const m = rule.match
  if (m === undefined) return true
  if (typeof m === "function") return m(c)
  if (m.side !== undefined && m.side !== c.side) return false
  if (m.lastUserText !== undefined && !matches(m.lastUserText, c.lastUserText)) return false
  if (m.toolResult !== undefined && !matchToolResult(m.toolResult, c.toolResults)) return false
  if (m.system !== undefined && !matches(m.system, c.system)) return false
  if (m.model !== undefined && !matches(m.model, c.model)) return false
  if (m.tool !== undefined && !c.tools.some((t) => matches(m.tool!, t))) return false
  return true
}

/** A small value that satisfies a JSON schema: what a side request asking for structured output gets. */
export function sampleFor(schema: unknown): unknown {
  if (!isObject(schema)) return "Scripted session"
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0]
  switch (schema.type) {
    case "object": {
      const props = isObject(schema.properties) ? schema.properties : {}
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, sampleFor(v)]))
    }
    case "array":
      return []
    case "number":
    case "integer":
      return 0
    case "boolean":
      return false
    default:
      return "Scripted session"
  }
}

/**
 * The default answer: "ok" for a turn of the agent; for a side request a short
 * title-like text, or JSON matching the requested schema (Claude Code asks
 * for the session title as {"title": ...}).
 */
export function defaultReply(c: Conversation): Reply {
  if (!c.side) return { content: "ok" }
  const text = c.outputSchema === undefined ? "Scripted session" : JSON.stringify(sampleFor(c.outputSchema))
  return { content: text, usage: { input: 5, output: 3 } }
}

let nextId = 0
const newId = (prefix: string) => `${prefix}_scripted${(++nextId).toString(36).padStart(6, "0")}`

export type Message = {
  id: string
  type: "message"
  role: "assistant"
  model: string
  content: Json[]
  stop_reason: StopReason
  stop_sequence: null
  usage: Json
}

function apiUsage(u: Usage): Json {
  return { input_tokens: u.input, output_tokens: u.output, cache_creation_input_tokens: u.cacheCreation, cache_read_input_tokens: u.cacheRead }
}

/** The whole reply as one Messages API response object (tool_use ids filled in). */
export function toMessage(reply: Reply, model: string): Message {
  const blocks: ReplyBlock[] = typeof reply.content === "string" ? [{ type: "text", text: reply.content }] : reply.content
  const content = blocks.map((b) => (b.type === "text" ? { type: "text", text: b.text } : { type: "tool_use", id: b.id ?? newId("toolu"), name: b.name, input: b.input }))
  const stop = reply.stopReason ?? (blocks.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn")
  const usage = { ...DEFAULT_USAGE, ...reply.usage }
  return { id: newId("msg"), type: "message", role: "assistant", model, content, stop_reason: stop, stop_sequence: null, usage: apiUsage(usage) }
}

export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

/**
 * The message as the streaming API sends it: message_start (input and cache
 * usage), per block content_block_start / deltas / content_block_stop
 * (text_delta, or input_json_delta split in two so the client must join
 * partial JSON), message_delta (stop_reason and the final usage), message_stop.
 */
export function sseEvents(message: Message): string[] {
  const u = message.usage
  const frames = [
    sseFrame("message_start", {
      type: "message_start",
      message: { ...message, content: [], stop_reason: null, usage: { ...u, output_tokens: 1 } },
    }),
  ]
  message.content.forEach((block, index) => {
    if (block.type === "text") {
      frames.push(sseFrame("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } }))
      const text = String(block.text)
      const cut = Math.ceil(text.length / 2)
      for (const part of [text.slice(0, cut), text.slice(cut)]) {
        if (part) frames.push(sseFrame("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: part } }))
      }
    } else {
      frames.push(sseFrame("content_block_start", { type: "content_block_start", index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } }))
      const json = JSON.stringify(block.input)
      const cut = Math.ceil(json.length / 2)
      for (const part of [json.slice(0, cut), json.slice(cut)]) {
        frames.push(sseFrame("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: part } }))
      }
    }
    frames.push(sseFrame("content_block_stop", { type: "content_block_stop", index }))
  })
  frames.push(sseFrame("message_delta", { type: "message_delta", delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: u }))
  frames.push(sseFrame("message_stop", { type: "message_stop" }))
  return frames
}

/** Parse server-sent events back into (event, data) pairs: for tests of the framing. */
export function parseSse(text: string): { event: string; data: Json }[] {
  return text
    .split("\n\n")
    .filter((chunk) => chunk.trim() !== "")
    .map((chunk) => {
      const lines = chunk.split("\n")
      const event = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? ""
      const data = lines
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n")
      return { event, data: JSON.parse(data) as Json }
    })
}

/** A rough count for /v1/messages/count_tokens: four characters a token. */
export function estimateTokens(body: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(body ?? "").length / 4))
}
