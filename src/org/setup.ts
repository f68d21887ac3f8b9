import { paths } from "../paths"
import { parseAuthSpec } from "./auth"
import { loadOrgConfig, type LoadedOrgConfig } from "./load"
import { resolveSource } from "./source"
import { requireTeam } from "./teams"
import { readUserConfig, writeUserConfig, type UserConfig } from "./user-config"
import { UsageError } from "../errors"

// `scc setup`: fetch and validate the org config first, then write the user
// config. Nothing is written for a source that does not give a valid config,
// or for a team the config does not define.

/** The source as it will be stored: file paths made absolute, so later runs do not depend on their cwd. */
export function storedSource(spec: string): string {
  const source = resolveSource(spec)
  return source.kind === "file" ? source.path : source.spec
}

/** Fetch (revalidating any cache) and validate the org config of a source not yet saved. */
export async function fetchForSetup(source: string, auth: string | undefined): Promise<LoadedOrgConfig> {
  if (auth !== undefined) parseAuthSpec(auth)
  return loadOrgConfig({ source: storedSource(source), auth, refresh: true, offline: false })
}

export type SetupResult = { path: string; config: UserConfig; organization: string; team: string | null }

export async function saveSetup(loaded: LoadedOrgConfig, input: { source: string; auth?: string; team?: string }): Promise<SetupResult> {
  const teams = Object.keys(loaded.config.profiles)
  if (input.team !== undefined) requireTeam(loaded.config, input.team)
  else if (teams.length > 0) {
    throw new UsageError(`choose a team; available teams: ${teams.sort().join(", ")}`, { hint: `scc setup --org ${input.source} --team ${teams[0]}` })
  }
  const previous = await readUserConfig()
  const config: UserConfig = {
    ...previous,
    organization_source: { url: storedSource(input.source), ...(input.auth ? { auth: input.auth } : {}) },
    team: input.team,
  }
  writeUserConfig(config)
  return { path: paths.sccConfigFile(), config, organization: loaded.config.organization.name, team: input.team ?? null }
}
