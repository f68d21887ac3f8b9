import { join } from "node:path"
import * as v from "valibot"
import { ConfigError } from "../errors"
import * as flag from "../flag"
import { paths } from "../paths"
import { CcaConfig, keyKind, keySchema, SECTIONS } from "./schema"

// Load cca.toml: the first of $CCA_CONFIG, ./cca.toml, ~/.config/cca/cca.toml
// (only one file is read; they are not merged), then CCA__SECTION__KEY
// environment overrides, then defaults. Every value remembers where it came
// from, so `cca config explain --daemon` can explain it and a validation error can name
// the file or variable to fix.

export type Source = { kind: "default" } | { kind: "file"; path: string } | { kind: "env"; name: string }

export type LoadedConfig = {
  config: CcaConfig
  /** The file that was read, if any. */
  file?: string
  /** Candidate files in the order they are looked for. */
  searched: string[]
  /** Source of every `section.key` that was set by a file or the environment; the rest are defaults. */
  sources: Map<string, Source>
}

export type LoadOptions = {
  /** An explicit file (like $CCA_CONFIG): it must exist. */
  path?: string
  cwd?: string
  /** Environment overrides; defaults to the process's CCA__* variables. */
  env?: Record<string, string>
}

export const ENV_PREFIX = "CCA__"

export function candidateFiles(opts: LoadOptions = {}): { path: string; explicit: boolean }[] {
  const explicit = opts.path ?? flag.ccaConfig()
  if (explicit) return [{ path: explicit, explicit: true }]
  return [
    { path: join(opts.cwd ?? process.cwd(), "cca.toml"), explicit: false },
    { path: paths.ccaConfigFile(), explicit: false },
  ]
}

export function describeSource(s: Source): string {
  if (s.kind === "file") return s.path
  if (s.kind === "env") return `env ${s.name}`
  return "default"
}

async function readToml(path: string): Promise<Record<string, unknown>> {
  const { readRegularFile } = await import("../safe-read")
  const text = (await readRegularFile(path)) ?? ""
  try {
    return Bun.TOML.parse(text) as Record<string, unknown>
  } catch (e) {
    // Bun's TOML errors carry no position (their line/column are the caller's).
    throw new ConfigError(`${path}: invalid TOML: ${(e as Error).message.replace(/^TOML Parse error: /, "")}`, { hint: `fix the TOML syntax in ${path}` })
  }
}

function isTable(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x)
}

/** An environment string as the key's type: numbers, booleans, and arrays as JSON or comma-separated. */
export function coerceEnv(name: string, raw: string, kind: ReturnType<typeof keyKind>): unknown {
  const fail = (expected: string) => new ConfigError(`${name}=${JSON.stringify(raw)}: expected ${expected}`, { hint: `set ${name} to ${expected}, or unset it` })
  switch (kind) {
    case "number": {
      const n = Number(raw.trim())
      if (raw.trim() === "" || !Number.isFinite(n)) throw fail("a number")
      return n
    }
    case "boolean": {
      const s = raw.trim().toLowerCase()
      if (["true", "1", "yes", "on"].includes(s)) return true
      if (["false", "0", "no", "off"].includes(s)) return false
      throw fail("true or false")
    }
    case "array": {
      const s = raw.trim()
      if (s.startsWith("[")) {
        try {
          return JSON.parse(s)
        } catch {
          throw fail('a JSON array (["a","b"]) or comma-separated values')
        }
      }
      return s === "" ? [] : s.split(",").map((x) => x.trim()).filter(Boolean)
    }
    case "object": {
      try {
        const parsed: unknown = JSON.parse(raw)
        if (isTable(parsed)) return parsed
      } catch {}
      throw fail('a JSON object (e.g. {"mode":"sandbox"})')
    }
    default:
      return raw
  }
}

/** Parse `CCA__SECTION__KEY` variables into `{ section: { key: value } }`; unknown names are errors. */
export function envLayer(env: Record<string, string>): { values: Record<string, Record<string, unknown>>; sources: Map<string, Source> } {
  const values: Record<string, Record<string, unknown>> = {}
  const sources = new Map<string, Source>()
  for (const [name, raw] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!name.startsWith(ENV_PREFIX)) continue
    const parts = name.slice(ENV_PREFIX.length).toLowerCase().split("__")
    const [section, key] = parts
    const schema = parts.length === 2 && section && key ? keySchema(section, key) : undefined
    if (!schema || !section || !key) {
      throw new ConfigError(`${name}: no such setting (expected ${ENV_PREFIX}SECTION__KEY, sections: ${SECTIONS.join(", ")})`, {
        hint: `unset ${name}, or run \`cca config explain --daemon\` to see every key`,
      })
    }
    ;(values[section] ??= {})[key] = coerceEnv(name, raw, keyKind(schema))
    sources.set(`${section}.${key}`, { kind: "env", name })
  }
  return { values, sources }
}

function fileLayer(path: string, raw: Record<string, unknown>): Map<string, Source> {
  const sources = new Map<string, Source>()
  for (const [section, table] of Object.entries(raw)) {
    if (!isTable(table)) continue // the schema reports it, naming the file
    for (const key of Object.keys(table)) sources.set(`${section}.${key}`, { kind: "file", path })
  }
  return sources
}

function validate(merged: Record<string, unknown>, sources: Map<string, Source>, file: string | undefined): CcaConfig {
  const result = v.safeParse(CcaConfig, merged)
  if (result.success) return result.output
  const issue = result.issues[0]
  const keys = issue.path?.map((p) => String(p.key)) ?? []
  // Tables inside a key are named in full (agents.permissions.roles.qa.mode); list positions are not.
  const dotted = keys.filter((k) => !/^\d+$/.test(k)).join(".") || "(root)"
  const source = sources.get(keys.slice(0, 2).join("."))
  const unknown = issue.kind === "schema" && issue.type === "strict_object" && issue.expected === "never"
  const message = unknown ? (keys.length === 1 ? "no such section" : "no such key") : issue.message
  const where = source?.kind === "env" ? source.name : source?.kind === "file" ? `${source.path}: ${dotted}` : file ? `${file}: ${dotted}` : dotted
  const fix = source?.kind === "env" ? `fix or unset ${source.name}` : `fix ${dotted} in ${source?.kind === "file" ? source.path : (file ?? "cca.toml")}`
  throw new ConfigError(`${where}: ${message}`, { hint: `${fix} (\`cca config explain --daemon\` lists every key and its default)` })
}

export async function loadConfig(opts: LoadOptions = {}): Promise<LoadedConfig> {
  const candidates = candidateFiles(opts)
  let file: string | undefined
  for (const c of candidates) {
    if (await Bun.file(c.path).exists()) {
      file = c.path
      break
    }
    if (c.explicit) throw new ConfigError(`config file ${c.path} (from CCA_CONFIG) does not exist`, { hint: `create it, or unset CCA_CONFIG to use ./cca.toml or ${paths.ccaConfigFile()}` })
  }
  const raw = file ? await readToml(file) : {}
  const sources = file ? fileLayer(file, raw) : new Map<string, Source>()
  const env = envLayer(opts.env ?? flag.envWithPrefix(ENV_PREFIX))

  const merged: Record<string, unknown> = { ...raw }
  for (const [section, values] of Object.entries(env.values)) {
    const base = merged[section]
    merged[section] = { ...(isTable(base) ? base : {}), ...values }
  }
  for (const [k, s] of env.sources) sources.set(k, s)
  return { config: validate(merged, sources, file), file, searched: candidates.map((c) => c.path), sources }
}
