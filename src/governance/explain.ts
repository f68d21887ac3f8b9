import { loadOrgConfig } from "../org/load"
import { mark } from "../trace"
import { loadProjectConfig } from "../org/project"
import { orgSettings } from "../org/settings"
import { paths, repoPaths } from "../paths"
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
  offline?: boolean
  /** `start --image` (source `cli`). */
  image?: string
  now?: Date
  host?: Host
}

export type Explained = EffectiveConfig & {
  org: { name: string; source: string; origin: "network" | "cache" | "file"; stale: boolean; fetched_at: string | null }
  workspace: { root: string; project_config: string | null }
}

/** The local exception files that apply: the user's, then the repository's (inside one). */
export function localStores(repoRoot: string | null): StoreFile[] {
  const files: StoreFile[] = [{ path: paths.userExceptions(), scope: "user" }]
  if (repoRoot !== null) files.push({ path: repoPaths.repoExceptions(repoRoot), scope: "repo" })
  return files
}

export async function explain(opts: ExplainOptions = {}): Promise<Explained> {
  mark("explain")
  const now = opts.now ?? new Date()
  // Started before the root is known: the org config and the team do not depend on it.
  const orgLoad = loadOrgConfig({ offline: opts.offline, now: () => now.getTime() })
  const settingsLoad = opts.team === undefined ? orgSettings() : undefined
  const { root, repo } = await findWorkspace(opts.workspace)
  const [org, settings, project, local] = await Promise.all([orgLoad, settingsLoad, loadProjectConfig(root), readStores(localStores(repo ? root : null), now)])
  mark("explain inputs loaded")
  const result = computeEffectiveConfig({
    org: org.config,
    team: opts.team ?? settings?.team ?? null,
    project: project?.config ?? null,
    localExceptions: local.exceptions,
    image: opts.image,
    now,
    host: opts.host ?? realHost(),
  })
  mark("merged")
  return {
    ...result,
    warnings: [...org.warnings, ...(project?.warnings ?? []), ...local.warnings, ...result.warnings],
    org: { name: org.config.organization.name, source: org.source, origin: org.origin, stale: org.stale, fetched_at: org.fetchedAt ?? null },
    workspace: { root, project_config: project?.path ?? null },
  }
}
