import * as v from "valibot"
import { firstMatch } from "../governance/match"
import { VERSION } from "../version"
import { fromIssue, jsonPath, unknownKeys, type ConfigIssue } from "./issues"
import { OrgConfig } from "./schema"

// Validation of an org config: the schema (with JSON paths), unknown keys as
// warnings, and cross-checks the schema alone cannot express. Used before
// anything is cached and by `scc config validate` in an org's CI.

export type { ConfigIssue } from "./issues"

export type OrgValidation = { config?: OrgConfig; errors: ConfigIssue[]; warnings: string[] }

export function validateOrgConfig(raw: unknown): OrgValidation {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { errors: [{ path: "(root)", message: "the org config must be a JSON object" }], warnings: [] }
  }
  const warnings = unknownKeys(OrgConfig, raw).map((p) => `unknown key ${p} (kept, but this CLI ignores it)`)
  const parsed = v.safeParse(OrgConfig, raw)
  const errors = parsed.success ? [] : parsed.issues.map(fromIssue)
  for (const e of errors) if (e.path === "schema_version") e.hint = "this CLI reads schema version 1.x; update scc if the org publishes a newer schema"
  // On the raw data, so `config validate` reports these alongside schema errors.
  errors.push(...crossCheck(raw as Record<string, unknown>))
  return parsed.success && errors.length === 0 ? { config: parsed.output, errors, warnings } : { errors, warnings }
}

const field = (obj: unknown, key: string): unknown => (obj !== null && typeof obj === "object" ? (obj as Record<string, unknown>)[key] : undefined)
const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === "string") : [])

function crossCheck(raw: Record<string, unknown>): ConfigIssue[] {
  const errors: ConfigIssue[] = []
  const blocked = strings(field(raw.security, "blocked_plugins"))
  const allowed = strings(field(raw.defaults, "allowed_plugins"))
  const enabled = field(raw.defaults, "enabled_plugins")
  ;(Array.isArray(enabled) ? enabled : []).forEach((plugin: unknown, i) => {
    if (typeof plugin !== "string" || plugin.trim() === "") return // the schema reports it
    const path = jsonPath(["defaults", "enabled_plugins", i])
    const blockedBy = firstMatch(plugin, blocked)
    if (blockedBy !== undefined) {
      errors.push({ path, message: `'${plugin}' is enabled but blocked by security.blocked_plugins pattern '${blockedBy}'` })
    } else if (allowed.length > 0 && firstMatch(plugin, allowed) === undefined) {
      errors.push({ path, message: `'${plugin}' is enabled but matches no pattern in defaults.allowed_plugins` })
    }
  })
  const min = raw.min_cli_version
  if (typeof min === "string" && /^\d+\.\d+\.\d+/.test(min) && compareVersions(min, VERSION) > 0) {
    errors.push({
      path: "min_cli_version",
      message: `the org config needs scc ${min} or newer; this is ${VERSION}`,
      hint: "update scc to the version your organisation requires",
    })
  }
  return errors
}

/** Compare `major.minor.patch` numerically; a pre-release suffix is ignored. */
export function compareVersions(a: string, b: string): number {
  const parts = (s: string) => s.split(/[-+]/)[0]!.split(".").map((n) => Number.parseInt(n, 10) || 0)
  const [x, y] = [parts(a), parts(b)]
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0)
    if (d !== 0) return Math.sign(d)
  }
  return 0
}

/** JSON text to a validation result; a syntax error is one error at the root. */
export function parseAndValidate(text: string): OrgValidation {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (e) {
    return { errors: [{ path: "(root)", message: `not valid JSON: ${(e as Error).message}` }], warnings: [] }
  }
  return validateOrgConfig(raw)
}

/** One line per error, for messages and `config validate`'s text output. */
export function formatIssues(errors: ConfigIssue[]): string {
  return errors.map((e) => `  ${e.path}: ${e.message}`).join("\n")
}
