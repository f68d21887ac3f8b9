import { loadOrgConfig, type LoadedOrgConfig } from "../org/load"
import { mark } from "../trace"
import { loadProjectConfig } from "../org/project"
import { orgSettings } from "../org/settings"
import { paths, repoPaths } from "../paths"
import { isExpired } from "./exceptions"
import { readStores, type StoreFile } from "./exceptions-store"
import { computeEffectiveConfig } from "./merge"
import { realHost, type Host } from "./stdio"
import { findWorkspace } from "./workspace"
import type { EffectiveConfig } from "./types"

// Load everything the merge needs (org config, team, .scc.yaml, local
// exceptions) in parallel, then merge. `config explain`, `unblock` and
// `start` (dry run or not) all come through here.

export type ExplainOptions = {
  /** A directory in the workspace; its repository root (else itself) is the workspace root. Default: cwd. */
  workspace?: string
  /** Overrides SCC_TEAM and the user config's team. */
  team?: string
  /** Overrides SCC_ORG_SOURCE and the user config's org source (the daemon's `[agents] org`). */
  orgSource?: string
  offline?: boolean
  /** `start --image` (source `cli`). */
  image?: string
  now?: Date
  host?: Host
}

export type Explained = EffectiveConfig & {
  org: { name: string; source: string; origin: "network" | "cache" | "file"; stale: boolean; fetched_at: string | null }
  workspace: { root: string; project_config: string | null }
  /** Local exceptions past their expiry, still in the files (`scc exceptions cleanup` removes them). */
  expired_local_exceptions: number
}

/** The local exception files that apply: the user's, then the repository's (inside one). */
export function localStores(repoRoot: string | null): StoreFile[] {
  const files: StoreFile[] = [{ path: paths.userExceptions(), scope: "user" }]
  if (repoRoot !== null) files.push({ path: repoPaths.repoExceptions(repoRoot), scope: "repo" })
  return files
}

/** What the merge reads, loaded once: `start` merges it twice (with and without the default image). */
export type ExplainInputs = {
  now: Date
  org: LoadedOrgConfig
  team: string | null
  project: Awaited<ReturnType<typeof loadProjectConfig>>
  local: Awaited<ReturnType<typeof readStores>>
  root: string
  host: Host
}

export async function loadExplainInputs(opts: ExplainOptions = {}): Promise<ExplainInputs> {
  mark("explain")
  const now = opts.now ?? new Date()
  // The user config is read once, for the org source and the team; the org
  // load starts before the workspace root is known, since it does not need it.
  const settingsLoad = orgSettings(opts.orgSource ? { source: opts.orgSource } : {})
  const orgLoad = settingsLoad.then((settings) => loadOrgConfig({ offline: opts.offline, now: () => now.getTime(), settings }))
  const { root, repo } = await findWorkspace(opts.workspace)
  const [org, settings, project, local] = await Promise.all([orgLoad, settingsLoad, loadProjectConfig(root), readStores(localStores(repo ? root : null), now)])
  mark("explain inputs loaded")
  return { now, org, team: opts.team ?? settings.team ?? null, project, local, root, host: opts.host ?? realHost() }
}

/** The merge over loaded inputs; `image` is a command-line request (source `cli`). */
export function explainFrom(inputs: ExplainInputs, image?: string): Explained {
  const { org, project, local } = inputs
  const result = computeEffectiveConfig({
    org: org.config,
    team: inputs.team,
    project: project?.config ?? null,
    localExceptions: local.exceptions,
    image,
    now: inputs.now,
    host: inputs.host,
  })
  mark("merged")
  return {
    ...result,
    warnings: [...org.warnings, ...(project?.warnings ?? []), ...local.warnings, ...result.warnings],
    org: { name: org.config.organization.name, source: org.source, origin: org.origin, stale: org.stale, fetched_at: org.fetchedAt ?? null },
    workspace: { root: inputs.root, project_config: project?.path ?? null },
    expired_local_exceptions: local.exceptions.filter((e) => isExpired(e, inputs.now)).length,
  }
}

export async function explain(opts: ExplainOptions = {}): Promise<Explained> {
  return explainFrom(await loadExplainInputs(opts), opts.image)
}
