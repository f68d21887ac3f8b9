import type { ErrorJSON } from "../errors"
import { errorResponse } from "./http-errors"

// Problem: one body of 100k nested `[` sent to any JSON route blocked the
// daemon for seconds (the parser and the schema walk recurse) and then
// answered 500; a body over the limit got Bun's bare 413; a NUL in a query
// parameter or a body string reached the database and answered 500.
// Fix: before routing, the guard reads the body itself, at most `limit`
// bytes (413 with a JSON error past that), scans its nesting depth without
// recursion (400 past `maxDepth`), then parses it and refuses a U+0000 in any
// string, naming the field. The route gets a fresh Request with the same text.

export const MAX_JSON_DEPTH = 64

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"])

const tooLarge = (limit: number, got: string): Response =>
  errorResponse(413, { code: "payload_too_large", message: `request body of ${got} bytes exceeds the limit of ${limit}`, hint: "send less, or raise daemon.body_limit in cca.toml" })

const invalid = (error: ErrorJSON): Response => errorResponse(400, error)

/** The deepest nesting of arrays and objects in a JSON text, stopping once past `max`. Strings are skipped, escapes honoured. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
      continue
    }
    if (c === 34) inString = true
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) return true
    } else if (c === 93 || c === 125) depth--
  }
  return false
}

/** The dotted path of the first string (or key) holding U+0000, e.g. `body.metadata.note`. */
export function nulPath(value: unknown, prefix = "body"): string | undefined {
  const stack: [unknown, string][] = [[value, prefix]]
  while (stack.length) {
    const [v, path] = stack.pop()!
    if (typeof v === "string") {
      if (v.includes("\0")) return path
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}.${i}`])
    } else if (v !== null && typeof v === "object") {
      for (const [k, item] of Object.entries(v)) {
        if (k.includes("\0")) return `${path}.${JSON.stringify(k)}`
        stack.push([item, `${path}.${k}`])
      }
    }
  }
  return undefined
}

const nulError = (field: string): ErrorJSON => ({
  code: "validation",
  message: `${field}: must not contain NUL (U+0000)`,
  hint: "remove the NUL character from the text",
  details: { field, issues: [{ field, message: "must not contain NUL (U+0000)" }] },
})

/** A 400 when the URL's path or query holds a NUL (decoded), naming the parameter. */
export function checkUrl(url: string): Response | undefined {
  if (!/%00/i.test(url)) return undefined
  const u = new URL(url)
  for (const [k, v] of u.searchParams) if (k.includes("\0") || v.includes("\0")) return invalid(nulError(`query.${k.replaceAll("\0", "")}`))
  return invalid(nulError("params"))
}

async function readCapped(request: Request, limit: number): Promise<Uint8Array | "too_large"> {
  if (!request.body) return new Uint8Array(0)
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      void reader.cancel().catch(() => {})
      return "too_large"
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  return out
}

/**
 * The request to route (the same one when it has no body to check), or the
 * refusal. JSON bodies only (content-type application/json or none given);
 * other bodies are size-checked and passed on.
 */
export async function checkBody(request: Request, limit: number, maxDepth = MAX_JSON_DEPTH): Promise<Request | Response> {
  if (!BODY_METHODS.has(request.method) || !request.body) return request
  const length = request.headers.get("content-length")
  if (length !== null && Number(length) > limit) return tooLarge(limit, length)
  const bytes = await readCapped(request, limit)
  if (bytes === "too_large") return tooLarge(limit, `more than ${limit}`)
  const type = request.headers.get("content-type") ?? ""
  if (bytes.byteLength > 0 && (type === "" || /json/i.test(type))) {
    const text = new TextDecoder().decode(bytes)
    if (jsonDepthExceeds(text, maxDepth)) {
      return invalid({ code: "invalid_body", message: `the request body nests deeper than ${maxDepth} levels`, hint: "send a flatter JSON body" })
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return invalid({ code: "invalid_body", message: "the request body is not valid JSON", hint: "send a JSON body with content-type: application/json" })
    }
    const field = nulPath(parsed)
    if (field) return invalid(nulError(field))
  }
  return new Request(request.url, { method: request.method, headers: request.headers, body: bytes.byteLength > 0 ? bytes : undefined })
}
