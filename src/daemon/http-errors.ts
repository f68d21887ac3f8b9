import * as v from "valibot"
import { AppError, isAppError, type ErrorJSON } from "../errors"
import { DbError, isTransient } from "../store/sql"

// Every failure the API answers is `{ "error": { code, message, hint, details? } }`
// with the matching HTTP status; never a 200 with an error inside.

export function errorResponse(status: number, error: ErrorJSON, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error }), { status, headers: { "content-type": "application/json", ...headers } })
}

export function appErrorResponse(e: AppError, headers?: Record<string, string>): Response {
  return errorResponse(e.status, e.toJSON(), headers)
}

type PathItem = { key?: unknown }
type ElysiaValidation = {
  type?: string
  value?: unknown
  valueError?: { message?: string; path?: PathItem[] | string }
  validator?: { schema?: unknown }
}

function dotted(prefix: string, path: readonly PathItem[] | undefined): string {
  const keys = (path ?? []).map((p) => String(p.key))
  return [prefix, ...keys].join(".")
}

/** A 400 naming the field, e.g. `body.title: must not be empty`. */
function validationError(e: ElysiaValidation): ErrorJSON {
  const where = e.type ?? "body"
  const schema = e.validator?.schema
  let issues: { field: string; message: string }[] = []
  if (schema && typeof schema === "object" && "~standard" in schema && "kind" in schema) {
    const r = v.safeParse(schema as v.GenericSchema, e.value)
    if (!r.success) issues = r.issues.map((i) => ({ field: dotted(where, i.path as PathItem[] | undefined), message: i.message }))
  }
  if (issues.length === 0) {
    const path = Array.isArray(e.valueError?.path) ? e.valueError.path : undefined
    issues = [{ field: dotted(where, path), message: e.valueError?.message ?? "invalid value" }]
  }
  const first = issues[0]!
  return {
    code: "validation",
    message: `${first.field}: ${first.message}`,
    hint: "GET /api/v1/openapi.json describes every route's parameters and body",
    details: { field: first.field, issues },
  }
}

/** Map whatever a handler or Elysia threw to a status and an error body. */
export function toHttpError(code: string | number, error: unknown): { status: number; body: ErrorJSON } {
  if (isAppError(error)) return { status: error.status, body: error.toJSON() }
  switch (code) {
    case "VALIDATION":
      return { status: 400, body: validationError(error as ElysiaValidation) }
    case "PARSE":
      return { status: 400, body: { code: "invalid_body", message: "the request body is not valid JSON", hint: "send a JSON body with content-type: application/json" } }
    case "NOT_FOUND":
      return { status: 404, body: { code: "not_found", message: "no such route", hint: "GET /api/v1/openapi.json lists every route" } }
  }
  // The database restarting or unreachable: a dependency that is down, not a bug. Postgres.js reconnects on the next query.
  if (isTransient(error)) return { status: 503, body: { code: "store_unavailable", message: "the database does not answer", hint: "retry shortly; if it lasts, check postgres.url and the PostgreSQL server (GET /api/v1/health)" } }
  if (error instanceof DbError && error.code.startsWith("22")) return { status: 400, body: { code: "validation", message: `a value was refused by the database: ${error.message}`, hint: "check the request's values (numbers in range, valid text)" } }
  if (typeof code === "number" && code >= 400) return { status: code, body: { code: "http_error", message: error instanceof Error ? error.message : String(error) } }
  return { status: 500, body: { code: "internal", message: "internal error", hint: "the daemon log has the details" } }
}
