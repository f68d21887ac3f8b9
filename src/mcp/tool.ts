import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import type * as z from "zod"
import { formatError, isAppError } from "../errors"
import { processLogFile, type Logger } from "../log"
import type { AgentLink } from "./agent-link"
import type { DaemonLink } from "./daemon"

// One MCP tool: its name, a one-line description a model can act on, zod
// shapes for input (validated and listed as JSON Schema by the SDK's
// McpServer) and, where a client can use it, output; and `run`, which
// returns short text plus structured content. Failures are thrown as named
// errors and become tool errors (isError) here, never protocol errors.

export type ToolContext = {
  daemon: DaemonLink
  /** The directory relative paths in arguments mean (Claude Code starts servers in the project). */
  cwd: string
  log: Logger
  /** Set in `--agent` mode. */
  agent?: AgentLink
}

export type Call = {
  signal: AbortSignal
  /** A progress notification, sent only when the client asked for them (a progressToken). */
  progress(message: string): void
}

/**
 * What a tool answers. Claude Code (2.1.x) shows the model the structured
 * content as JSON when there is some, other clients the text; so `summary`
 * (one line a model can act on) leads both, `detail` (a result, a listing)
 * follows it in the text, and `data` is the structured rest.
 */
export type Answer = { summary: string; detail?: string; data?: Record<string, unknown> }

export type ToolDef = {
  name: string
  title: string
  description: string
  input: z.ZodRawShape
  output?: z.ZodRawShape
  /** Reads only: clients may call it without asking. */
  readOnly?: boolean
  run(args: Record<string, unknown>, call: Call): Promise<Answer>
}

export function defineTool<I extends z.ZodRawShape>(def: Omit<ToolDef, "input" | "run"> & { input: I; run(args: z.output<z.ZodObject<I>>, call: Call): Promise<Answer> }): ToolDef {
  return def as unknown as ToolDef
}

/** Text a model reads: capped, so one huge task result cannot flood its context. */
export const TEXT_LIMIT = 20_000

export function capText(text: string, limit = TEXT_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}\n… (${text.length - limit} more characters; the whole value is in the structured content)`
}

export function answerResult(a: Answer): CallToolResult {
  const text = a.detail ? `${a.summary}\n\n${a.detail}` : a.summary
  return { content: [{ type: "text", text: capText(text) }], structuredContent: { summary: a.summary, ...a.data } }
}

/** A failure as the model should see it: what went wrong and the fix, as a tool error. */
export function errorResult(tool: string, e: unknown, log: Logger): CallToolResult {
  let text: string
  if (isAppError(e) && e.code === "not_available") {
    text = `${tool} is not available in this version of cca: ${e.hint ?? e.message} (the daemon answered ${e.status}: ${e.message})`
  } else if (isAppError(e)) {
    text = `${tool}: ${formatError(e)}`
  } else {
    log.error(`${tool} failed`, e)
    text = `${tool} failed: ${e instanceof Error ? e.message : String(e)}. This is a bug; details are in ${processLogFile()}`
  }
  return { content: [{ type: "text", text }], isError: true }
}

/** A JSON value as short readable text (generic answers of daemon routes). */
export function jsonText(value: unknown, limit = 4000): string {
  const text = JSON.stringify(value, null, 2) ?? "null"
  return text.length <= limit ? text : `${text.slice(0, limit)}\n…`
}

/** MCP structured content is an object; arrays and scalars are wrapped. */
export function asObject(value: unknown, key = "value"): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { [key]: value }
}
