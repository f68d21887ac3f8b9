import * as v from "valibot"
import { ConfigError, NotFoundError, UsageError, ValidationError } from "../errors"
import { paths } from "../paths"
import { parseAuthSpec } from "./auth"
import { fromIssue } from "./issues"
import { resolveSource } from "./source"
import { readUserConfig, UserConfig, writeUserConfig } from "./user-config"

// `config get|set KEY`: dotted keys of ~/.config/scc/config.json, typed by the
// UserConfig schema, validated and written atomically.

type Leaf = "string" | "number" | "boolean" | "array"
type Node = { type: string; entries?: Record<string, Node>; wrapped?: Node }

/** Every settable dotted key with its value type, read from the schema. */
export function userConfigKeys(): Record<string, Leaf> {
  const out: Record<string, Leaf> = {}
  const walk = (node: Node, prefix: string) => {
    while (node.wrapped) node = node.wrapped
    if (node.entries) for (const [k, child] of Object.entries(node.entries)) walk(child, prefix ? `${prefix}.${k}` : k)
    else if (prefix !== "schema_version") out[prefix] = node.type as Leaf
  }
  walk(UserConfig as unknown as Node, "")
  return out
}

function checkKey(key: string): Leaf {
  const keys = userConfigKeys()
  const leaf = keys[key]
  if (!leaf) throw new UsageError(`unknown config key '${key}'`, { hint: `one of: ${Object.keys(keys).join(", ")}` })
  return leaf
}

export async function getUserValue(key: string): Promise<unknown> {
  checkKey(key)
  const config = await readUserConfig()
  let value: unknown = config
  for (const part of key.split(".")) value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined
  if (value === undefined) throw new NotFoundError(`${key} is not set in ${paths.sccConfigFile()}`, { hint: `scc config set ${key} <value>` })
  return value
}

function coerce(key: string, leaf: Leaf, raw: string): unknown {
  if (leaf === "string") return raw
  if (leaf === "number") {
    const n = Number(raw)
    if (raw.trim() === "" || !Number.isFinite(n)) throw new ValidationError(`${key} must be a number, not '${raw}'`, { hint: `scc config set ${key} 8` })
    return n
  }
  if (leaf === "boolean") {
    if (raw !== "true" && raw !== "false") throw new ValidationError(`${key} must be true or false, not '${raw}'`)
    return raw === "true"
  }
  if (raw.trim().startsWith("[")) {
    try {
      return JSON.parse(raw)
    } catch {
      throw new ValidationError(`${key}: '${raw}' is not a JSON array`, { hint: `scc config set ${key} 'a,b' or '["a","b"]'` })
    }
  }
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
}

/** Normalise values that have a meaning beyond their type (sources, auth specs). */
function normalise(key: string, value: unknown): unknown {
  if (key === "organization_source.url" && typeof value === "string") {
    const source = resolveSource(value)
    return source.kind === "file" ? source.path : source.spec // a relative path would depend on the cwd of every later run
  }
  if (key === "organization_source.auth" && typeof value === "string") parseAuthSpec(value)
  return value
}

export type SetResult = { key: string; value: unknown; previous: unknown; path: string }

export async function setUserValue(key: string, raw: string): Promise<SetResult> {
  const leaf = checkKey(key)
  const value = normalise(key, coerce(key, leaf, raw))
  const config = structuredClone(await readUserConfig()) as Record<string, unknown>
  const parts = key.split(".")
  let node = config
  for (const part of parts.slice(0, -1)) {
    const next = node[part]
    node = (next !== null && typeof next === "object" ? next : (node[part] = {})) as Record<string, unknown>
  }
  const last = parts.at(-1)!
  const previous = node[last]
  node[last] = value
  const checked = v.safeParse(UserConfig, config)
  if (!checked.success) {
    const issue = fromIssue(checked.issues[0])
    const hint = issue.path.startsWith("organization_source") ? "scc setup --org <source> writes the whole organization_source" : undefined
    throw new ConfigError(`cannot set ${key}: ${issue.path} ${issue.message}`, { hint })
  }
  writeUserConfig(checked.output)
  return { key, value, previous, path: paths.sccConfigFile() }
}
