import { realpathSync } from "node:fs"
import { join } from "node:path"
import { NotFoundError } from "../errors"
import { readTextIfExists, writeJsonAtomic } from "../files"
import { paths } from "../paths"
import { repoLayout } from "./root"
import { matchWorktree } from "./worktree"
import { listWorktrees, requireRepo, type Worktree } from "./worktree-list"

// `worktree switch` prints a path for a shell function to cd into; it cannot
// change the caller's directory itself. `-` is the worktree switched away
// from last time (per repository, like `cd -`), `^` the main checkout.

type SwitchState = Record<string, { previous: string }>

export const switchStateFile = () => join(paths.sccCacheDir(), "worktree_switch.json")

async function readState(): Promise<SwitchState> {
  const text = await readTextIfExists(switchStateFile())
  if (!text) return {}
  try {
    const parsed: unknown = JSON.parse(text)
    return parsed && typeof parsed === "object" ? (parsed as SwitchState) : {}
  } catch {
    return {} // a broken state file only loses the `-` memory
  }
}

export type SwitchResult = { path: string; branch: string | null; previous: string | null }

/** Resolve `target` (name, branch, path, `-` or `^`) from `cwd` and remember where we came from. */
export async function switchWorktree(cwd: string, target: string): Promise<SwitchResult> {
  const layout = requireRepo(cwd)
  const all = await listWorktrees(layout.mainRoot, { counts: false })
  const live = all.filter((w) => !w.prunable)
  const state = await readState()
  let to: Worktree
  if (target === "^") to = live.find((w) => w.main) ?? all[0]!
  else if (target === "-") {
    const prev = state[layout.mainRoot]?.previous
    const found = prev ? live.find((w) => w.path === prev) : undefined
    if (!found) throw new NotFoundError("no previous worktree to switch back to", { hint: "switch to a worktree by name first: scc worktree list" })
    to = found
  } else to = matchWorktree(live, target)
  // Where the caller is now: the checkout containing cwd, if it is one of this repository's.
  const here = repoLayout(cwd)
  const hereRoot = here ? realpathSync(here.root) : null
  const from = hereRoot && all.some((w) => w.path === hereRoot) ? hereRoot : null
  if (from && from !== to.path) {
    state[layout.mainRoot] = { previous: from }
    writeJsonAtomic(switchStateFile(), state)
  }
  return { path: to.path, branch: to.branch, previous: from }
}
