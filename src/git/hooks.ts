import { existsSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { ConflictError } from "../errors"
import { writeFileAtomic } from "../files"
import { casefold } from "../governance/match"
import { loadProtectedBranches } from "./branch"
import { git } from "./run"
import { requireRepo } from "./worktree-list"

// A repo-local pre-push hook that refuses pushes to protected branches.
//
// It is a small POSIX sh script with the patterns written into it, so it works
// wherever git runs (a container, CI, a machine without scc). The cost: after
// changing `preferences.protected_branches`, run `scc hooks install` again to
// refresh it. The marker line tells our hook from anyone else's: a hook
// without it is never overwritten or removed. A foreign hook can be kept by
// renaming it `pre-push.local`; ours runs it after its own check.

export const HOOK_MARKER = "# scc-managed-hook: pre-push"

/** The hook script for these protected-branch patterns (globs, matched case-insensitively). */
export function prePushScript(patterns: readonly string[]): string {
  const list = patterns.map((p) => casefold(p).replace(/[^a-z0-9._/*?\[\]!-]/g, "")).filter(Boolean)
  return `#!/bin/sh
${HOOK_MARKER}
# Installed by \`scc hooks install\`, removed by \`scc hooks uninstall\`.
# Refuses pushes (plain, forced, or deleting) to protected branches.
# Deliberate bypass: git push --no-verify
set -f
protected='${list.join("\n")}'
refs=$(cat)
status=0
while read -r local_ref local_sha remote_ref remote_sha; do
  case "$remote_ref" in refs/heads/*) ;; *) continue ;; esac
  branch=\${remote_ref#refs/heads/}
  lower=$(printf '%s' "$branch" | tr '[:upper:]' '[:lower:]')
  hit=
  IFS='
'
  for pattern in $protected; do
    case "$lower" in $pattern) hit=$pattern; break ;; esac
  done
  unset IFS
  [ -n "$hit" ] || continue
  kind=push
  case "$local_sha" in *[!0]*) ;; *) kind=delete ;; esac
  case "$remote_sha" in *[!0]*) existing=yes ;; *) existing= ;; esac
  # Rewriting history the remote has: a force-push (when the old commit is known here).
  if [ "$kind" = push ] && [ -n "$existing" ] && git cat-file -e "$remote_sha^{commit}" 2>/dev/null &&
    ! git merge-base --is-ancestor "$remote_sha" "$local_sha" 2>/dev/null; then
    kind=force-push
  fi
  echo "scc pre-push: refusing $kind to protected branch '$branch' (matches '$hit')." >&2
  echo "Try: push a work branch instead (git push origin HEAD:scc/my-change); bypass deliberately with git push --no-verify" >&2
  status=1
done <<EOF
$refs
EOF
[ "$status" -eq 0 ] || exit "$status"
local_hook="$(dirname "$0")/pre-push.local"
if [ -x "$local_hook" ]; then
  printf '%s\\n' "$refs" | "$local_hook" "$@" || exit $?
fi
exit 0
`
}

/** The hooks directory git uses for `repo` (core.hooksPath when set). */
export async function hooksDir(repo: string): Promise<string> {
  const layout = requireRepo(repo)
  return (await git(layout.root, ["rev-parse", "--path-format=absolute", "--git-path", "hooks"])).trim()
}

export function isOurHook(path: string): boolean {
  return readFileSync(path, "utf8").split("\n", 3).includes(HOOK_MARKER)
}

function foreignHook(path: string, verb: string): InstanceType<typeof ConflictError> {
  return new ConflictError(`${path} is a pre-push hook scc did not write; not ${verb} it`, {
    hint: `to keep it and add scc's check, rename it to ${join(path, "..", "pre-push.local")} and run \`scc hooks install\` (scc's hook runs it after its own check)`,
    details: { path },
  })
}

export type HookInstall = { path: string; action: "installed" | "updated"; protected: string[] }

export async function installPrePushHook(repo: string, opts: { protectedBranches?: readonly string[] } = {}): Promise<HookInstall> {
  const path = join(await hooksDir(repo), "pre-push")
  const exists = existsSync(path)
  if (exists && !isOurHook(path)) throw foreignHook(path, "overwriting")
  const patterns = [...(opts.protectedBranches ?? (await loadProtectedBranches()))]
  writeFileAtomic(path, prePushScript(patterns), 0o755)
  return { path, action: exists ? "updated" : "installed", protected: patterns }
}

export type HookUninstall = { path: string; removed: boolean }

export async function uninstallPrePushHook(repo: string): Promise<HookUninstall> {
  const path = join(await hooksDir(repo), "pre-push")
  if (!existsSync(path)) return { path, removed: false }
  if (!isOurHook(path)) throw foreignHook(path, "removing")
  rmSync(path)
  return { path, removed: true }
}
