import { existsSync } from "node:fs"
import { basename } from "node:path"
import { NotFoundError } from "../errors"
import { repoLayout, type RepoLayout } from "./root"
import { git, gitRaw } from "./run"

// Reading worktrees: `git worktree list --porcelain -z` for the set, and one
// `git status` per worktree (run in parallel) for the change counts.

export type ChangeCounts = { staged: number; modified: number; untracked: number }

export type Worktree = {
  path: string
  /** Directory name: what `switch` and `remove` accept. */
  name: string
  /** Short branch name, or null when detached. */
  branch: string | null
  head: string | null
  main: boolean
  locked: boolean
  /** Its directory is gone; `worktree prune` removes the record. */
  prunable: boolean
  /** Null when the worktree cannot be read (prunable). */
  changes: ChangeCounts | null
}

/** The repository containing `from`, or NotFoundError (exit 1). */
export function requireRepo(from: string): RepoLayout {
  const layout = repoLayout(from)
  if (!layout) throw new NotFoundError(`${from} is not inside a git repository`, { hint: "run it inside a repository, or pass its path" })
  return layout
}

export function parseWorktreeList(porcelainZ: string): Omit<Worktree, "changes">[] {
  const out: Omit<Worktree, "changes">[] = []
  let cur: Omit<Worktree, "changes"> | null = null
  for (const field of porcelainZ.split("\0")) {
    if (field === "") {
      if (cur) out.push(cur)
      cur = null
      continue
    }
    const sp = field.indexOf(" ")
    const key = sp === -1 ? field : field.slice(0, sp)
    const value = sp === -1 ? "" : field.slice(sp + 1)
    if (key === "worktree") {
      if (cur) out.push(cur)
      cur = { path: value, name: basename(value), branch: null, head: null, main: out.length === 0, locked: false, prunable: false }
    } else if (!cur) continue
    else if (key === "HEAD") cur.head = value
    else if (key === "branch") cur.branch = value.replace(/^refs\/heads\//, "")
    else if (key === "locked") cur.locked = true
    else if (key === "prunable") cur.prunable = true
  }
  if (cur) out.push(cur)
  return out
}

/** Counts from `git status --porcelain=v1 -z`: index changes, work-tree changes, untracked entries. */
export function parseStatus(porcelainZ: string): ChangeCounts {
  const counts = { staged: 0, modified: 0, untracked: 0 }
  const entries = porcelainZ.split("\0")
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    if (e.length < 3) continue
    const x = e[0]!
    const y = e[1]!
    if (x === "?" && y === "?") {
      counts.untracked++
      continue
    }
    if (x === "!") continue
    if (x !== " ") counts.staged++
    if (y !== " ") counts.modified++
    if (x === "R" || x === "C") i++ // a rename's source path is the next entry
  }
  return counts
}

export async function changeCounts(path: string): Promise<ChangeCounts> {
  return parseStatus(await git(path, ["status", "--porcelain=v1", "-z"]))
}

/** All worktrees of the repository containing `from`, main checkout first. */
export async function listWorktrees(from: string, opts: { counts?: boolean } = {}): Promise<Worktree[]> {
  const layout = requireRepo(from)
  const entries = parseWorktreeList(await git(layout.mainRoot, ["worktree", "list", "--porcelain", "-z"]))
  return Promise.all(
    entries.map(async (w) => {
      const readable = !w.prunable && existsSync(w.path)
      const changes = opts.counts === false || !readable ? null : await changeCounts(w.path).catch(() => null)
      return { ...w, prunable: w.prunable || !readable, changes }
    }),
  )
}

/** Whether `branch` is fully merged into `into` (a commit-ish). */
export async function isMerged(repo: string, branch: string, into: string): Promise<boolean> {
  return (await gitRaw(repo, ["merge-base", "--is-ancestor", `refs/heads/${branch}`, into])).code === 0
}
