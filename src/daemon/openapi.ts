import type * as v from "valibot"

// OpenAPI 3.1 from the routes themselves: each route's valibot body, query and
// params schemas (the ones Elysia validates with) become JSON Schema, and its
// `detail` gives summary, tag and responses. No second description to drift.

export type JsonSchema = { [k: string]: unknown }

type AnySchema = v.GenericSchema & {
  type: string
  expects?: string
  pipe?: (v.GenericSchema | { kind: string; type: string; requirement?: unknown })[]
  wrapped?: AnySchema
  default?: unknown
  entries?: Record<string, AnySchema>
  item?: AnySchema
  options?: unknown[]
  literal?: unknown
  key?: AnySchema
  value?: AnySchema
  rest?: AnySchema
}

/** JSON Schema for the valibot constructs our routes use. Unknown ones become `{}` (anything). */
export function toJsonSchema(schema: v.GenericSchema): JsonSchema {
  const s = schema as AnySchema
  let out: JsonSchema
  switch (s.type) {
    case "string":
      out = { type: "string" }
      break
    case "number":
      out = { type: "number" }
      break
    case "boolean":
      out = { type: "boolean" }
      break
    case "null":
      out = { type: "null" }
      break
    case "literal":
      out = { const: s.literal }
      break
    case "picklist":
    case "enum":
      out = { enum: s.options }
      break
    case "array":
      out = { type: "array", items: toJsonSchema(s.item!) }
      break
    case "object":
    case "strict_object":
    case "loose_object": {
      const properties: Record<string, JsonSchema> = {}
      const required: string[] = []
      for (const [k, e] of Object.entries(s.entries ?? {})) {
        properties[k] = toJsonSchema(e)
        if (e.type !== "optional" && e.type !== "nullish" && e.type !== "exact_optional") required.push(k)
      }
      out = { type: "object", properties, ...(required.length ? { required } : {}), ...(s.type === "strict_object" ? { additionalProperties: false } : {}) }
      break
    }
    case "record":
      out = { type: "object", additionalProperties: toJsonSchema(s.value!) }
      break
    case "optional":
    case "exact_optional":
    case "nullish": {
      out = toJsonSchema(s.wrapped!)
      const d = typeof s.default === "function" ? undefined : s.default
      if (d !== undefined) out.default = d
      if (s.type === "nullish") out = { anyOf: [out, { type: "null" }] }
      break
    }
    case "nullable":
      out = { anyOf: [toJsonSchema(s.wrapped!), { type: "null" }] }
      break
    case "union":
    case "variant":
      out = { anyOf: (s.options as v.GenericSchema[]).map(toJsonSchema) }
      break
    default:
      out = {}
  }
  for (const action of s.pipe?.slice(1) ?? []) {
    if (!("kind" in action) || action.kind !== "validation") continue
    const a = action as { type: string; requirement?: unknown }
    if (a.type === "integer") out.type = "integer"
    else if (a.type === "min_value") out.minimum = a.requirement
    else if (a.type === "max_value") out.maximum = a.requirement
    else if (a.type === "min_length") out[out.type === "array" ? "minItems" : "minLength"] = a.requirement
    else if (a.type === "max_length") out[out.type === "array" ? "maxItems" : "maxLength"] = a.requirement
    else if (a.type === "regex") out.pattern = String((a.requirement as RegExp).source)
    else if (a.type === "uuid") out.format = "uuid"
    else if (a.type === "url") out.format = "uri"
  }
  return out
}

export type RouteDetail = {
  summary?: string
  description?: string
  tags?: string[]
  /** Status -> description; 2xx bodies are JSON unless `sse` or `text`. */
  responses?: Record<string, string>
  public?: boolean
  sse?: boolean
  text?: boolean
}

export type RouteInfo = {
  method: string
  path: string
  hooks: { body?: unknown; query?: unknown; params?: unknown; detail?: RouteDetail }
}

const ERROR_SCHEMA: JsonSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" }, hint: { type: "string" }, details: {} },
    },
  },
}

function isSchema(x: unknown): x is v.GenericSchema {
  return typeof x === "object" && x !== null && "~standard" in x
}

export function buildOpenApi(routes: readonly RouteInfo[], info: { title: string; version: string }): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of routes) {
    if (r.method === "OPTIONS" || r.method === "ALL" || r.method === "WS") continue
    const detail = r.hooks.detail ?? {}
    const path = r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")
    const parameters: unknown[] = []
    for (const [where, schema] of [["path", r.hooks.params], ["query", r.hooks.query]] as const) {
      if (!isSchema(schema)) continue
      const js = toJsonSchema(schema)
      const required = new Set((js.required as string[] | undefined) ?? [])
      for (const [name, p] of Object.entries((js.properties as Record<string, JsonSchema>) ?? {})) {
        parameters.push({ name, in: where, required: where === "path" || required.has(name), schema: p })
      }
    }
    const responses: Record<string, unknown> = {}
    for (const [status, description] of Object.entries(detail.responses ?? { 200: "OK" })) {
      const ok = status.startsWith("2")
      const media = !ok ? "application/json" : detail.sse ? "text/event-stream" : detail.text ? "text/plain" : "application/json"
      responses[status] = { description, content: { [media]: { schema: ok ? (media === "application/json" ? { type: "object" } : { type: "string" }) : ERROR_SCHEMA } } }
    }
    if (!detail.public) responses["401"] ??= { description: "Missing or invalid API key", content: { "application/json": { schema: ERROR_SCHEMA } } }
    responses["429"] ??= { description: "Rate limited (see Retry-After)", content: { "application/json": { schema: ERROR_SCHEMA } } }
    const op: Record<string, unknown> = {
      operationId: `${r.method.toLowerCase()}${path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
      summary: detail.summary ?? `${r.method} ${path}`,
      ...(detail.description ? { description: detail.description } : {}),
      tags: detail.tags ?? [],
      parameters,
      responses,
      security: detail.public ? [] : [{ bearer: [] }, { apiKey: [] }],
    }
    if (isSchema(r.hooks.body)) {
      op.requestBody = { required: true, content: { "application/json": { schema: toJsonSchema(r.hooks.body) } } }
      responses["400"] ??= { description: "Invalid body (error.details.field names the path)", content: { "application/json": { schema: ERROR_SCHEMA } } }
      responses["413"] ??= { description: "Body larger than daemon.body_limit", content: { "application/json": { schema: ERROR_SCHEMA } } }
    }
    ;(paths[path] ??= {})[r.method.toLowerCase()] = op
  }
  return {
    openapi: "3.1.0",
    info,
    paths,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An API key from `cca keys create`" },
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
      },
      schemas: { Error: ERROR_SCHEMA },
    },
  }
}
