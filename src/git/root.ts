import { existsSync, statSync } from "node:fs"
import { dirname, join, resolve } from "node:path"

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
