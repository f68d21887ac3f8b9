import { existsSync, readdirSync, rmdirSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import { ConflictError, NotFoundError, UsageError } from "../errors"
import { sanitizeBranchName } from "./branch"
import { detectPackageManagers, installDependencies, type InstallOptions, type InstallPlan } from "./deps"
import { currentBranch } from "./root"
import { git, gitRaw } from "./run"
import { copyIncludedFiles } from "./worktree-include"
import { changeCounts, isMerged, listWorktrees, requireRepo, type Worktree } from "./worktree-list"

// Worktrees live next to the repository, in `<repo>-worktrees/<name>`, each
// on its own `scc/<name>` branch: outside the repo so tools that walk it never
// see them, and close enough that the sandbox can mount both.

export const BRANCH_PREFIX = "scc/"

export function worktreesDir(mainRoot: string): string {
  return join(dirname(mainRoot), `${basename(mainRoot)}-worktrees`)
}

/** `Fix login bug` -> branch `scc/fix-login-bug`, directory `fix-login-bug`. */
export function worktreeNames(name: string): { branch: string; dir: string } {
  const clean = sanitizeBranchName(name.startsWith(BRANCH_PREFIX) ? name.slice(BRANCH_PREFIX.length) : name)
  return { branch: `${BRANCH_PREFIX}${clean}`, dir: clean.replaceAll("/", "-") }
}

export type CreateWorktreeOptions = {
  base?: string
  installDeps?: boolean
  install?: InstallOptions
}

export type CreatedWorktree = {
  path: string
  branch: string
  base: string
  /** Git-ignored files copied because `.worktreeinclude` lists them. */
  copied: string[]
  /** Package managers run (empty without --install-deps or when none was found). */
  installed: InstallPlan[]
}

export async function createWorktree(workspace: string, name: string, opts: CreateWorktreeOptions = {}): Promise<CreatedWorktree> {
  const layout = requireRepo(workspace)
  const { branch, dir } = worktreeNames(name)
  const path = join(worktreesDir(layout.mainRoot), dir)
  if (existsSync(path)) throw new ConflictError(`${path} already exists`, { hint: `switch to it with \`scc worktree switch ${dir}\`, or choose another name` })
  const base = opts.base ?? currentBranch(layout.root) ?? "HEAD"
  if ((await gitRaw(layout.root, ["rev-parse", "--verify", "--quiet", `${base}^{commit}`])).code !== 0) {
    throw new NotFoundError(`base ${base} is not a branch or commit of ${layout.mainRoot}`, { hint: "pass an existing branch with --base" })
  }
  const exists = (await gitRaw(layout.root, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`])).code === 0
  await git(layout.root, exists ? ["worktree", "add", path, branch] : ["worktree", "add", "-b", branch, path, base])
  const copied = await copyIncludedFiles(layout.root, path)
  const installed = opts.installDeps ? detectPackageManagers(path) : []
  if (installed.length > 0) await installDependencies(path, installed, opts.install)
  return { path, branch, base, copied, installed }
}

/**
 * The worktree `target` names: its directory name, its branch (with or
 * without `scc/`), or its path. Exact matches win over prefixes, prefixes over
 * substrings; an ambiguous target is a usage error listing the candidates.
 */
export function matchWorktree(worktrees: Worktree[], target: string): Worktree {
  const t = target.toLowerCase()
  const keys = (w: Worktree) => [w.name, w.branch ?? "", (w.branch ?? "").replace(/^scc\//, "")].map((k) => k.toLowerCase()).filter(Boolean)
  const byPath = worktrees.find((w) => w.path === resolve(target))
  if (byPath) return byPath
  for (const test of [(k: string) => k === t, (k: string) => k.startsWith(t), (k: string) => k.includes(t)]) {
    const hits = worktrees.filter((w) => keys(w).some(test))
    if (hits.length === 1) return hits[0]!
    if (hits.length > 1) {
      throw new UsageError(`"${target}" matches ${hits.length} worktrees: ${hits.map((w) => w.name).join(", ")}`, { hint: "use more of the name" })
    }
  }
  const names = worktrees.map((w) => w.name).join(", ")
  throw new NotFoundError(`no worktree matches "${target}"`, { hint: `scc worktree list (known: ${names})` })
}

export type RemovedWorktree = {
  path: string
  branch: string | null
  branchDeleted: boolean
  /** Why the branch was kept, when it was. */
  branchKept?: string
}

/**
 * Remove a linked worktree. Refuses with staged, modified or untracked files
 * unless forced. Its `scc/` branch is deleted when merged into the main
 * checkout's HEAD, or when forced; other branches are never deleted.
 */
export async function removeWorktree(from: string, target: string, opts: { force?: boolean } = {}): Promise<RemovedWorktree> {
  const layout = requireRepo(from)
  const all = await listWorktrees(layout.mainRoot, { counts: false })
  const wt = matchWorktree(all, target)
  if (wt.main) throw new UsageError(`${wt.path} is the main checkout, not a worktree`, { hint: "name a worktree from `scc worktree list`" })
  if (!wt.prunable && !opts.force) {
    const c = await changeCounts(wt.path)
    if (c.staged + c.modified + c.untracked > 0) {
      throw new ConflictError(`${wt.name} has uncommitted changes (${c.staged} staged, ${c.modified} modified, ${c.untracked} untracked)`, {
        hint: `commit or stash them in ${wt.path}, or pass --force to discard them`,
        details: c,
      })
    }
  }
  await git(layout.mainRoot, ["worktree", "remove", ...(opts.force ? ["--force", "--force"] : []), wt.path])
  const parent = dirname(wt.path)
  if (parent === worktreesDir(layout.mainRoot) && existsSync(parent) && readdirSync(parent).length === 0) rmdirSync(parent)
  const result: RemovedWorktree = { path: wt.path, branch: wt.branch, branchDeleted: false }
  if (!wt.branch?.startsWith(BRANCH_PREFIX)) {
    if (wt.branch) result.branchKept = "not an scc/ branch"
    return result
  }
  if (opts.force || (await isMerged(layout.mainRoot, wt.branch, "HEAD"))) {
    await git(layout.mainRoot, ["branch", "-D", wt.branch])
    result.branchDeleted = true
  } else result.branchKept = "not merged into the main checkout's HEAD (pass --force to delete it)"
  return result
}

/** Forget worktrees whose directories are gone; returns their paths. */
export async function pruneWorktrees(from: string): Promise<string[]> {
  const layout = requireRepo(from)
  const stale = (await listWorktrees(layout.mainRoot, { counts: false })).filter((w) => w.prunable && !w.main).map((w) => w.path)
  await git(layout.mainRoot, ["worktree", "prune"])
  return stale
}
