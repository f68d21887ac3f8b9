import { readRegularFile } from "../safe-read"
import { ConfigError } from "../errors"
import { repoPaths } from "../paths"
import type { ProjectConfig } from "./schema"

// `.scc.yaml` at the workspace root: what a project adds to its team's config.
// yaml (~8 ms) and valibot load only when the file exists.

export type LoadedProjectConfig = { config: ProjectConfig; path: string; warnings: string[] }

export async function loadProjectConfig(workspaceRoot: string): Promise<LoadedProjectConfig | null> {
  const path = repoPaths.projectConfig(workspaceRoot)
  let text: string | undefined
  try {
    text = await readRegularFile(path)
  } catch (e) {
    if (e instanceof ConfigError) throw e
    throw new ConfigError(`cannot read ${path}: ${(e as Error).message}`, { hint: "check the file's permissions" })
  }
  if (text === undefined || text.trim() === "") return null
  return parseProjectConfig(text, path)
}

export async function parseProjectConfig(text: string, path: string): Promise<LoadedProjectConfig | null> {
  const [{ parse, YAMLParseError }, v, { ProjectConfig }, { fromIssue, unknownKeys }] = await Promise.all([
    import("yaml"),
    import("valibot"),
    import("./schema"),
    import("./issues"),
  ])
  const hint = "fix the file, or run `scc init --force` to start again from the template"
  let raw: unknown
  try {
    raw = parse(text)
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : ""
    throw new ConfigError(`${path} is not valid YAML${where}: ${firstLine((e as Error).message)}`, { hint })
  }
  if (raw === null || raw === undefined) return null // only comments
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`${path} must be a mapping of keys (additional_plugins, additional_mcp_servers, session, ...)`, { hint })
  }
  const result = v.safeParse(ProjectConfig, raw)
  if (!result.success) {
    const issues = result.issues.map(fromIssue)
    const lines = issues.map((i) => `${i.path}: ${i.message}`)
    throw new ConfigError(`${path}: ${lines.join("; ")}`, { hint, details: { errors: issues } })
  }
  const warnings = unknownKeys(ProjectConfig, raw).map((k) => `${path}: unknown key ${k} (ignored)`)
  return { config: result.output, path, warnings }
}

function firstLine(s: string): string {
  return s.split("\n")[0]!
}
