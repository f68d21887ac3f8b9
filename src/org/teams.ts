import { NotFoundError, UsageError } from "../errors"
import { firstMatch } from "../governance/match"
import type { LoadedOrgConfig } from "./load"
import type { McpServer, OrgConfig, Profile } from "./schema"
import { readUserConfig, writeUserConfig } from "./user-config"

// Teams are the org config's profiles. Listing, describing and choosing one;
// the choice lives in the user config.

export type TeamSummary = { name: string; description: string | null; current: boolean; plugins: number; mcp_servers: number }

export function listTeams(config: OrgConfig, current: string | undefined): TeamSummary[] {
  return Object.entries(config.profiles)
    .map(([name, p]) => ({
      name,
      description: p.description ?? null,
      current: name === current,
      plugins: p.additional_plugins.length,
      mcp_servers: p.additional_mcp_servers.length,
    }))
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** The profile named `team`, or a NotFoundError naming the teams there are. */
export function requireTeam(config: OrgConfig, team: string): Profile {
  const profile = Object.hasOwn(config.profiles, team) ? config.profiles[team] : undefined
  if (profile) return profile
  const names = Object.keys(config.profiles).sort()
  throw new NotFoundError(
    names.length === 0 ? `team '${team}' does not exist: the org config defines no teams` : `team '${team}' does not exist; available teams: ${names.join(", ")}`,
    { hint: names.length === 0 ? "ask your org config's maintainers to add profiles" : `scc team switch ${names[0]}` },
  )
}

export type TeamInfo = {
  name: string
  description: string | null
  current: boolean
  additional_plugins: string[]
  additional_mcp_servers: McpServer[]
  network_policy: string | null
  session: Profile["session"] | null
  sandbox: Profile["sandbox"] | null
  delegation: {
    /** The delegation.teams pattern that lets this team add plugins, or null. */
    add_plugins: string | null
    add_mcp_servers: string | null
    allow_project_overrides: boolean
    /** Both switches: the org's projects.inherit_team_delegation and the team's allow_project_overrides. */
    projects_may_add: boolean
  }
}

export function teamInfo(config: OrgConfig, team: string, current: string | undefined): TeamInfo {
  const p = requireTeam(config, team)
  const allowOverrides = p.delegation?.allow_project_overrides ?? false
  return {
    name: team,
    description: p.description ?? null,
    current: team === current,
    additional_plugins: p.additional_plugins,
    additional_mcp_servers: p.additional_mcp_servers,
    network_policy: p.network_policy ?? null,
    session: p.session ?? null,
    sandbox: p.sandbox ?? null,
    delegation: {
      add_plugins: firstMatch(team, config.delegation.teams.allow_additional_plugins) ?? null,
      add_mcp_servers: firstMatch(team, config.delegation.teams.allow_additional_mcp_servers) ?? null,
      allow_project_overrides: allowOverrides,
      projects_may_add: config.delegation.projects.inherit_team_delegation && allowOverrides,
    },
  }
}

/** Validate `team` against the org config and store it in the user config. */
export async function switchTeam(loaded: LoadedOrgConfig, team: string): Promise<{ team: string; previous: string | null }> {
  if (team.trim() === "") throw new UsageError("the team name is empty", { hint: "scc team list" })
  requireTeam(loaded.config, team)
  const user = await readUserConfig()
  writeUserConfig({ ...user, team })
  return { team, previous: user.team ?? null }
}
