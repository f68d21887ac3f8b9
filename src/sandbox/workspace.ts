import { realpathSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, sep } from "node:path"
import { NotFoundError, UsageError } from "../errors"
import * as flag from "../flag"
import { currentBranch, repoLayout } from "../git/root"

// What `start` mounts. The workspace is the git root when inside a repo (the
// worktree's own root for a linked worktree), mounted at the same path inside
// the container so paths in tool output, stack traces and git config agree.
//
// Problem: a linked worktree needs its main repository's git dir (objects,
// refs) to work at all. Fix: mount the common parent of the worktree and its
// main checkout. When that parent is broad (the home directory, `/`, any
// system directory) mount the worktree and the main repo's `.git` side by
// side instead: a sandbox never gets the whole home directory.

/**
 * Directories `start` refuses as a workspace without --allow-suspicious-workspace:
 * the file system root, the home directory and every directory above it, the
 * temp directories, and the top-level system directories of Linux and macOS.
 * Their subdirectories are fine (a project in /tmp/x or /opt/x is ordinary).
 */
export function suspiciousRoots(home = flag.home()): string[] {
  const system = ["/", "/tmp", "/var/tmp", "/etc", "/usr", "/usr/local", "/var", "/bin", "/sbin", "/lib", "/lib64", "/boot", "/dev", "/proc", "/sys", "/run", "/opt", "/srv", "/root", "/home", "/mnt", "/media", "/snap"]
  const macos = ["/Users", "/private", "/private/tmp", "/private/var", "/System", "/Library", "/Applications", "/Volumes"]
  const out = new Set([...system, ...macos, tmpdir()])
  for (let dir = home; ; dir = dirname(dir)) {
    out.add(dir)
    if (dirname(dir) === dir) break
  }
  return [...out].map(realOrSelf)
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

export function isSuspicious(path: string, home = flag.home()): boolean {
  return suspiciousRoots(home).includes(path)
}

export type Mount = { source: string; target: string; readOnly: boolean; why: string }

export type Workspace = {
  /** The directory Claude Code starts in (the repo or worktree root). */
  path: string
  /** The checked-out branch; null outside a repo or on a detached HEAD. */
  branch: string | null
  /** For a linked worktree: the main checkout it belongs to. */
  mainRoot: string | null
  /** Bind mounts, each at the same path inside the container. */
  mounts: Mount[]
}

/** Resolve `input` (default: the current directory) to the workspace `start` mounts. */
export function resolveWorkspace(input: string | undefined, opts: { allowSuspicious?: boolean; cwd?: string } = {}): Workspace {
  const given = input ?? opts.cwd ?? process.cwd()
  let real: string
  try {
    real = realpathSync(given)
  } catch {
    throw new NotFoundError(`workspace ${given} does not exist`, { hint: "pass an existing directory: scc start PATH" })
  }
  if (!statSync(real).isDirectory()) throw new UsageError(`workspace ${given} is not a directory`, { hint: "pass a directory: scc start PATH" })
  const layout = repoLayout(real)
  const path = layout ? realOrSelf(layout.root) : real
  if (!opts.allowSuspicious && isSuspicious(path)) {
    throw new UsageError(`refusing to use ${path} as a workspace: it is a system, temp or home directory, and all of it would be mounted into the sandbox`, {
      hint: "run scc start inside a project directory, or pass --allow-suspicious-workspace if you really mean it",
    })
  }
  const branch = layout ? currentBranch(real) : null
  if (!layout?.linked) return { path, branch, mainRoot: null, mounts: [{ source: path, target: path, readOnly: false, why: "workspace" }] }
  const mainRoot = realOrSelf(layout.mainRoot)
  return { path, branch, mainRoot, mounts: worktreeMounts(path, mainRoot, realOrSelf(layout.commonDir)) }
}

export function commonParent(a: string, b: string): string {
  const pa = a.split(sep)
  const pb = b.split(sep)
  let i = 0
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++
  return pa.slice(0, i).join(sep) || sep
}

function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep)
}

function worktreeMounts(worktree: string, mainRoot: string, commonDir: string): Mount[] {
  const parent = commonParent(worktree, mainRoot)
  if (!isSuspicious(parent)) return [{ source: parent, target: parent, readOnly: false, why: "worktree and its main repository" }]
  const mounts: Mount[] = [{ source: worktree, target: worktree, readOnly: false, why: "workspace (linked worktree)" }]
  if (!isInside(commonDir, worktree)) mounts.push({ source: commonDir, target: commonDir, readOnly: false, why: "main repository's git dir" })
  return mounts
}
