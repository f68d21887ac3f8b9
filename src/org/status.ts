import * as flag from "../flag"
import { paths } from "../paths"
import { cacheState } from "./cache"
import { resolveSource } from "./source"
import { readUserConfig } from "./user-config"

// What `config show` reports: the user config, where the org source, auth
// spec and team come from, and the state of the org config cache. Local
// files only: no request, no token resolution.

export type Origin = "env" | "user config" | null

export async function orgStatus() {
  const user = await readUserConfig()
  const envSource = flag.sccOrgSource()
  const source = envSource ?? user.organization_source?.url
  const envAuth = flag.sccOrgAuth()
  const auth = envAuth ?? (source !== undefined && source === user.organization_source?.url ? user.organization_source?.auth : undefined)
  const envTeam = flag.sccTeam()
  let resolved: string | null = null
  let sourceError: string | null = null
  if (source !== undefined) {
    try {
      const r = resolveSource(source)
      resolved = r.kind === "url" ? r.url : r.path
    } catch (e) {
      sourceError = (e as Error).message
    }
  }
  const cache = await cacheState(source)
  let organization: string | null = null
  if (cache.intact && cache.matches_source) {
    const cached = await Bun.file(paths.orgConfigCache()).json()
    organization = cached?.organization?.name ?? null
  }
  return {
    config_file: { path: paths.sccConfigFile(), exists: await Bun.file(paths.sccConfigFile()).exists() },
    user_config: user,
    organization: {
      name: organization,
      source: source ?? null,
      source_from: (envSource ? "env" : source ? "user config" : null) as Origin,
      resolved,
      source_error: sourceError,
      auth: auth ?? null,
      auth_from: (envAuth ? "env" : auth ? "user config" : null) as Origin,
    },
    team: { name: envTeam ?? user.team ?? null, from: (envTeam ? "env" : user.team ? "user config" : null) as Origin },
    offline: flag.sccOffline(),
    cache,
  }
}

export type OrgStatus = Awaited<ReturnType<typeof orgStatus>>
