import { existsSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import { ToolError, UsageError } from "../errors"
import { findRepoRoot } from "../git/root"
import { paths } from "../paths"

// The agent's working directory: the shared workspace, or a git worktree of
// its own on a branch `cca/<agent id>` so agents never edit the same checkout.
// (The git helpers of the worktree feature may replace the spawns below.)

export type WorkdirOptions = {
  workspace: string
  agentId: string
  worktree?: boolean
  /** Where agents' own workdirs go when there is no workspace; default ~/.local/share/cca/workdirs. */
  workdirsDir?: string
  /** Where worktrees go; default ~/.local/share/cca/worktrees. */
  worktreesDir?: string
  /** What the new branch starts from; default HEAD. */
  baseRef?: string
}

export type Workdir = { cwd: string; worktree?: { path: string; branch: string; repo: string } }

async function git(cwd: string, args: string[]): Promise<string> {
  const proc = Bun.spawn(["git", ...args], { cwd, stdout: "pipe", stderr: "pipe", stdin: "ignore" })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new ToolError(`git ${args.join(" ")} failed in ${cwd}: ${err.trim() || `exit ${code}`}`, { hint: "check the repository with `git status` and `git worktree list`" })
  return out.trim()
}

export async function prepareWorkdir(o: WorkdirOptions): Promise<Workdir> {
  // Problem: with no workspace configured, agents ran in the daemon's current directory (after the quick
  // start, the checkout itself). Fix: each agent gets a directory of its own under the data dir.
  if (!o.workspace) {
    if (o.worktree) throw new UsageError("agents.worktrees needs agents.workspace: the repository the agents' worktrees come from", { hint: "set agents.workspace = \"/path/to/repo\" in cca.toml, or turn agents.worktrees off" })
    const cwd = join(o.workdirsDir ?? join(paths.ccaDataDir(), "workdirs"), o.agentId)
    mkdirSync(cwd, { recursive: true, mode: 0o700 })
    return { cwd }
  }
  if (!existsSync(o.workspace)) throw new UsageError(`workspace ${o.workspace} does not exist`, { hint: "create it, or point the agent at an existing directory" })
  if (!o.worktree) return { cwd: o.workspace }
  const repo = findRepoRoot(o.workspace)
  if (!repo) throw new UsageError(`workspace ${o.workspace} is not a git repository, so it cannot get per-agent worktrees`, { hint: "run `git init` there, or turn worktrees off for the agents" })
  const dir = o.worktreesDir ?? join(paths.ccaDataDir(), "worktrees")
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const path = join(dir, o.agentId)
  const branch = `cca/${o.agentId}`
  if (existsSync(path)) return { cwd: path, worktree: { path, branch, repo: repo.root } } // a restarted agent keeps its tree
  const exists = await git(repo.root, ["branch", "--list", branch])
  const args = exists ? ["worktree", "add", path, branch] : ["worktree", "add", "-b", branch, path, o.baseRef ?? "HEAD"]
  await git(repo.root, args)
  return { cwd: path, worktree: { path, branch, repo: repo.root } }
}

/** Removes the agent's worktree (its branch stays, with whatever it committed). */
export async function removeWorktree(w: NonNullable<Workdir["worktree"]>): Promise<void> {
  if (existsSync(w.path)) await git(w.repo, ["worktree", "remove", "--force", w.path])
}
