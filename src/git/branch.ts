import { defineError, ExitCode, UsageError } from "../errors"
import { firstMatch } from "../governance/match"
import { protectedBranches, readUserConfig } from "../org/user-config"
import { currentBranch, repoLayout } from "./root"
import { git, gitRaw } from "./run"

// Branch safety: Claude Code should not commit straight onto main. The check
// is a pure decision (what to do), so `start` can prompt, create a branch or
// refuse as its mode allows; creating the branch is a separate step.

export const ProtectedBranchError = defineError("protected_branch", { exitCode: ExitCode.usage, status: 409 })

/** Protected-branch patterns from the user config (`preferences.protected_branches`), defaults otherwise. */
export async function loadProtectedBranches(): Promise<string[]> {
  return protectedBranches(await readUserConfig())
}

/** The pattern protecting `branch`, or undefined. Patterns are globs (`release/*`), case-insensitive. */
export function protectedBy(branch: string, patterns: readonly string[]): string | undefined {
  return firstMatch(branch, patterns)
}

/**
 * A name git accepts as a branch, from free text: lower case, runs of other
 * characters become `-`, no `..`, `//`, leading dots or `.lock` ends.
 */
export function sanitizeBranchName(name: string): string {
  const out = name
    .trim()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "") // ü -> u: keep the letter, drop the accent
    .toLowerCase()
    .replace(/[^a-z0-9._/-]+/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/\/{2,}/g, "/")
    .split("/")
    .map((part) => part.replace(/^[.-]+/, "").replace(/(\.lock)+$/, "").replace(/[.-]+$/, ""))
    .filter(Boolean)
    .join("/")
  if (!out) throw new UsageError(`"${name}" has nothing usable in a branch name`, { hint: "use letters, digits, '-', '_' or '.'" })
  return out
}

export type BranchSafetyOptions = {
  /** `--branch NAME`: the work branch to create (or switch to). */
  branch?: string
  /** `--allow-protected`: stay on the protected branch. */
  allowProtected?: boolean
  /** Whether the caller can ask the user (a TTY on stdin). */
  interactive: boolean
  /** Protected patterns; read from the user config when absent. */
  protectedBranches?: readonly string[]
}

export type BranchSafety =
  /** Go ahead on the current branch. */
  | { action: "proceed"; branch: string | null; reason: "not_a_repo" | "detached" | "not_protected" | "allowed" }
  /** Create (or switch to) `branch`, then go ahead: call createWorkBranch. */
  | { action: "create_branch"; from: string | null; branch: string }
  /** Ask the user: create `suggestion` (or a name they type), or stay with --allow-protected semantics. */
  | { action: "prompt"; from: string; protectedBy: string; suggestion: string }
  /** Non-interactive on a protected branch without a flag: throw `error`. */
  | { action: "refuse"; from: string; protectedBy: string; error: InstanceType<typeof ProtectedBranchError> }

/** A default work branch name: `scc/<user>-<yyyymmdd-hhmm>` (or without the user part). */
export function suggestWorkBranch(user: string | undefined, now = new Date()): string {
  const stamp = now.toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-")
  return `scc/${sanitizeBranchName(user ? `${user}-${stamp}` : stamp)}`
}

/** Decide what `start` does about the branch checked out in `repo`. Spawns nothing. */
export async function checkBranchSafety(repo: string, opts: BranchSafetyOptions & { user?: string; now?: Date }): Promise<BranchSafety> {
  if (!repoLayout(repo)) return { action: "proceed", branch: null, reason: "not_a_repo" }
  const patterns = opts.protectedBranches ?? (await loadProtectedBranches())
  const branch = currentBranch(repo)
  if (opts.branch !== undefined) {
    const wanted = sanitizeBranchName(opts.branch)
    const guard = protectedBy(wanted, patterns)
    if (guard) {
      throw new ProtectedBranchError(`--branch ${wanted} is itself a protected branch (${guard})`, { hint: "choose a work branch name such as scc/my-change" })
    }
    if (wanted === branch) return { action: "proceed", branch, reason: "not_protected" }
    return { action: "create_branch", from: branch, branch: wanted }
  }
  if (branch === null) return { action: "proceed", branch: null, reason: "detached" }
  const guard = protectedBy(branch, patterns)
  if (!guard) return { action: "proceed", branch, reason: "not_protected" }
  if (opts.allowProtected) return { action: "proceed", branch, reason: "allowed" }
  if (opts.interactive) return { action: "prompt", from: branch, protectedBy: guard, suggestion: suggestWorkBranch(opts.user, opts.now) }
  const error = new ProtectedBranchError(`${branch} is a protected branch (matches "${guard}")`, {
    hint: "pass --branch NAME to work on a new branch, or --allow-protected to stay on it",
    details: { branch, protectedBy: guard },
  })
  return { action: "refuse", from: branch, protectedBy: guard, error }
}

/**
 * Create `name` from the current HEAD and check it out (uncommitted changes
 * come along); if it exists already, check it out. Returns the branch name.
 */
export async function createWorkBranch(repo: string, name: string): Promise<string> {
  const branch = sanitizeBranchName(name)
  const exists = (await gitRaw(repo, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`])).code === 0
  await git(repo, exists ? ["switch", branch] : ["switch", "-c", branch])
  return branch
}
