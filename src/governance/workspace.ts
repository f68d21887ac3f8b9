import { dirname, join, resolve } from "../posix-path"

// Problem: git/root.ts finds the repository root synchronously with node:fs,
// and loading node:fs costs ~2.6 ms of start-up in a compiled binary, a
// fifth of what `config explain` may spend in total. Why not change it: its
// callers need a synchronous answer. Fix: the explain path asks the same
// question with Bun.file().exists() (~0.1 ms; stat() costs ~0.5 ms on first
// use). exists() is false for directories, so a main checkout is recognised
// by `.git/HEAD`, a linked worktree or submodule by its `.git` file.

export type Workspace = { root: string; repo: boolean }

/** The repository root containing `dir` (`repo: true`), else `dir` itself: where .scc.yaml and .scc/ live. */
export async function findWorkspace(dir = process.cwd()): Promise<Workspace> {
  const start = resolve(dir)
  for (let d = start; ; d = dirname(d)) {
    if ((await Bun.file(join(d, ".git", "HEAD")).exists()) || (await Bun.file(join(d, ".git")).exists())) return { root: d, repo: true }
    if (dirname(d) === d) return { root: start, repo: false }
  }
}
