import * as v from "valibot"
import { ConfigError } from "../errors"
import { readTextIfExists, writeJsonAtomic } from "../files"
import { paths } from "../paths"

// ~/.config/scc/config.json: where the org config comes from, the user's team,
// and preferences. Written atomically with mode 0600 (it may name an auth spec,
// never a token itself).

export const DEFAULT_PROTECTED_BRANCHES = ["main", "master", "develop", "production", "staging"]

export const UserConfig = v.looseObject({
  schema_version: v.optional(v.number(), 1),
  organization_source: v.optional(
    v.looseObject({
      /** An https URL, `github:owner/repo[@ref]:path`, `gitlab:group/repo[@ref]:path`, or a file path. */
      url: v.pipe(v.string(), v.minLength(1)),
      /** `env:VAR` or `command:CMD`; the token itself is never stored. */
      auth: v.optional(v.string()),
    }),
  ),
  team: v.optional(v.string()),
  preferences: v.optional(
    v.looseObject({
      protected_branches: v.optional(v.array(v.string())),
    }),
    {},
  ),
})
export type UserConfig = v.InferOutput<typeof UserConfig>

export async function readUserConfig(path = paths.sccConfigFile()): Promise<UserConfig> {
  const text = await readTextIfExists(path)
  if (text === undefined || text.trim() === "") return v.parse(UserConfig, {})
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (e) {
    throw new ConfigError(`${path} is not valid JSON: ${(e as Error).message}`, { hint: `fix the file, or run \`scc setup\` to write it again` })
  }
  const result = v.safeParse(UserConfig, raw)
  if (!result.success) {
    const issue = result.issues[0]
    const where = issue.path?.map((p) => p.key).join(".") ?? "(root)"
    throw new ConfigError(`${path}: ${where}: ${issue.message}`, { hint: `fix the file, or run \`scc setup\` to write it again` })
  }
  return result.output
}

export function writeUserConfig(config: UserConfig, path = paths.sccConfigFile()): void {
  writeJsonAtomic(path, config, 0o600)
}

export function protectedBranches(config: UserConfig): string[] {
  return config.preferences?.protected_branches ?? DEFAULT_PROTECTED_BRANCHES
}
