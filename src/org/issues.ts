import type { BaseIssue, GenericSchema } from "valibot"

// Turning valibot issues into `{ path, message }` with JSON paths like
// `profiles.finance.additional_mcp_servers[0].url`, and finding keys a schema
// does not know (kept and warned about, never fatal). Type-only valibot import:
// callers that load this on a fast path do not pay for valibot.

export type ConfigIssue = { path: string; message: string; hint?: string }

/** `a.b[0]["odd key"]` from a list of keys and indexes. */
export function jsonPath(keys: readonly (string | number)[]): string {
  let out = ""
  for (const k of keys) {
    if (typeof k === "number") out += `[${k}]`
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(k)) out += out === "" ? k : `.${k}`
    else out += `[${JSON.stringify(k)}]`
  }
  return out === "" ? "(root)" : out
}

export function fromIssue(issue: BaseIssue<unknown>): ConfigIssue {
  const keys = (issue.path ?? []).map((p) => p.key as string | number)
  const last = issue.path?.at(-1)
  // valibot says 'Invalid key: Expected "name" but received undefined' for a missing key.
  const missing = issue.kind === "schema" && issue.received === "undefined" && last !== undefined && last.value === undefined
  return { path: jsonPath(keys), message: missing ? "is required" : issue.message }
}

type Node = GenericSchema & {
  entries?: Record<string, Node>
  wrapped?: Node
  item?: Node
  value?: Node
  options?: Node[]
}

/** Every key present in `value` but absent from the object schemas that describe it. */
export function unknownKeys(schema: GenericSchema, value: unknown, path: (string | number)[] = []): string[] {
  const out: string[] = []
  walk(schema as Node, value, path, out)
  return out
}

function walk(schema: Node, value: unknown, path: (string | number)[], out: string[]): void {
  if (schema.wrapped) return walk(schema.wrapped, value, path, out)
  if (value === null || typeof value !== "object") return
  if (schema.entries) {
    if (Array.isArray(value)) return
    for (const [k, v] of Object.entries(value)) {
      const child = schema.entries[k]
      if (child) walk(child, v, [...path, k], out)
      else out.push(jsonPath([...path, k]))
    }
  } else if (schema.item && Array.isArray(value)) {
    value.forEach((v, i) => walk(schema.item!, v, [...path, i], out))
  } else if (schema.type === "record" && schema.value && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) walk(schema.value, v, [...path, k], out)
  } else if (schema.options) {
    // A union: only walk when exactly one object-shaped option exists.
    const objects = schema.options.filter((o) => o.entries || o.wrapped?.entries)
    if (objects.length === 1) walk(objects[0]!, value, path, out)
  }
}
