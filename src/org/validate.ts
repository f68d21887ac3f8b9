import * as v from "valibot"
import { activePolicyExceptions } from "../governance/exceptions"
import { firstMatchFolded } from "../governance/match"
import { normalizePluginRef } from "../governance/refs"
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
  errors.push(...crossCheck(raw as Record<string, unknown>, warnings))
  return parsed.success && errors.length === 0 ? { config: parsed.output, errors, warnings } : { errors, warnings }
}

const field = (obj: unknown, key: string): unknown => (obj !== null && typeof obj === "object" ? (obj as Record<string, unknown>)[key] : undefined)
const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((s): s is string => typeof s === "string") : [])

function crossCheck(raw: Record<string, unknown>, warnings: string[]): ConfigIssue[] {
  const errors: ConfigIssue[] = []
  const blocked = strings(field(raw.security, "blocked_plugins"))
  const allowed = strings(field(raw.defaults, "allowed_plugins"))
  const marketplaces = Object.keys((field(raw, "marketplaces") ?? {}) as object)
  // The same normaliser as the merge and the audit: a ref validate accepts is one the merge accepts.
  const refs = (list: unknown, at: (string | number)[]) =>
    (Array.isArray(list) ? list : []).flatMap((plugin: unknown, i) => {
      if (typeof plugin !== "string" || plugin.trim() === "") return [] // the schema reports it
      const path = jsonPath([...at, i])
      const r = normalizePluginRef(plugin, marketplaces)
      if (!r.ok) {
        errors.push({ path, message: r.error })
        return []
      }
      return [{ path, plugin, folded: r.plugin.folded, ref: r.plugin.ref }]
    })
  const profiles = field(raw, "profiles")
  if (profiles !== null && typeof profiles === "object")
    for (const [team, p] of Object.entries(profiles)) refs(field(p, "additional_plugins"), ["profiles", team, "additional_plugins"])
  // A blocked default plugin is a retroactive block, as upstream has it: that
  // one plugin stays out of every session (blocked_by, source org.security)
  // and the rest of the config stays in force, so a warning, not an error.
  const listed = Array.isArray(raw.exceptions) ? raw.exceptions.filter((e) => e !== null && typeof e === "object" && typeof e.id === "string") : []
  const policy = activePolicyExceptions(listed, null, new Date())
  for (const { path, plugin, folded, ref } of refs(field(raw.defaults, "enabled_plugins"), ["defaults", "enabled_plugins"])) {
    const blockedBy = firstMatchFolded(folded, blocked)
    if (blockedBy !== undefined) {
      const lift = policy.find((e) => firstMatchFolded(folded, strings(field(e.allow, "plugins"))) !== undefined)
      warnings.push(
        lift
          ? `${path}: '${ref}' is blocked by security.blocked_plugins pattern '${blockedBy}', lifted by policy exception '${lift.id}'`
          : `${path}: '${ref}' is blocked by security.blocked_plugins pattern '${blockedBy}' (a retroactive block: sessions start without it; a policy exception can lift it)`,
      )
    } else if (allowed.length > 0 && firstMatchFolded(folded, allowed) === undefined) {
      errors.push({ path, message: `'${plugin}' is enabled but matches no pattern in defaults.allowed_plugins` })
    }
  }
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
