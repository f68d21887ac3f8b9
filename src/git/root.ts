import { existsSync, readFileSync, statSync } from "node:fs"
import { basename, dirname, isAbsolute, join, resolve } from "node:path"

// Finding the repository root without spawning git (a spawn costs a few ms,
// and `config explain` runs this on every call). A `.git` directory marks a
// main checkout; a `.git` file marks a linked worktree or a submodule.

export type RepoRoot = { root: string; worktree: boolean }

export function findRepoRoot(from: string): RepoRoot | null {
  let dir = resolve(from)
  for (;;) {
    const dotGit = join(dir, ".git")
    if (existsSync(dotGit)) return { root: dir, worktree: !statSync(dotGit).isDirectory() }
    const parent = dirname(dir)
    if (parent === dir) return null
    dir = parent
  }
}

export type RepoLayout = {
  /** The checkout containing `from` (a linked worktree's own directory, or the main checkout). */
  root: string
  /** True for a linked worktree (`git worktree add`). */
  linked: boolean
  /** This checkout's git dir (`.git`, or `.git/worktrees/<name>` for a linked worktree). */
  gitDir: string
  /** The git dir shared by all worktrees (refs, config, hooks). */
  commonDir: string
  /** The main checkout's root: the repository a linked worktree belongs to. */
  mainRoot: string
}

/**
 * Where a checkout's git files live, read from `.git` and `commondir` as git
 * itself does. A submodule's `.git` file points at `.git/modules/<name>` with
 * no `commondir`: it is its own main checkout.
 */
export function repoLayout(from: string): RepoLayout | null {
  const found = findRepoRoot(from)
  if (!found) return null
  const { root } = found
  const dotGit = join(root, ".git")
  if (!found.worktree) return { root, linked: false, gitDir: dotGit, commonDir: dotGit, mainRoot: root }
  const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, "utf8"))
  if (!m) return { root, linked: false, gitDir: dotGit, commonDir: dotGit, mainRoot: root }
  const gitDir = isAbsolute(m[1]!) ? m[1]! : resolve(root, m[1]!)
  const commondirFile = join(gitDir, "commondir")
  if (!existsSync(commondirFile)) return { root, linked: false, gitDir, commonDir: gitDir, mainRoot: root }
  const rel = readFileSync(commondirFile, "utf8").trim()
  const commonDir = isAbsolute(rel) ? rel : resolve(gitDir, rel)
  // A non-bare repository's common dir is `<main root>/.git`.
  const mainRoot = basename(commonDir) === ".git" ? dirname(commonDir) : commonDir
  return { root, linked: true, gitDir, commonDir, mainRoot }
}

/** The branch checked out in the checkout containing `from`; null when detached or not a repo. */
export function currentBranch(from: string): string | null {
  const layout = repoLayout(from)
  if (!layout) return null
  const head = join(layout.gitDir, "HEAD")
  if (!existsSync(head)) return null
  const m = /^ref:\s*refs\/heads\/(.+?)\s*$/.exec(readFileSync(head, "utf8"))
  return m ? m[1]! : null
}

/** The project's name: the main checkout's directory name, the same for all its worktrees. */
export function projectName(from: string): string {
  const layout = repoLayout(from)
  return basename(layout ? layout.mainRoot : resolve(from))
}
