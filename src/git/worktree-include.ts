import { copyFileSync, existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from "node:fs"
import { dirname, join } from "node:path"
import { gitRaw } from "./run"

// `.worktreeinclude`: gitignore-style patterns naming git-ignored files a new
// worktree should get a copy of (`.env`, local certificates...). Git does the
// matching, so the semantics are exactly gitignore's (negation, anchoring,
// directories): one pass lists untracked files matching the include patterns,
// a second keeps only those the repository really ignores, so a tracked or
// merely untracked file is never copied behind git's back.

export const WORKTREE_INCLUDE = ".worktreeinclude"

function nulList(text: string): string[] {
  return text.split("\0").filter(Boolean)
}

/** Paths (relative to `root`) that match `.worktreeinclude` and are git-ignored. */
export async function includedIgnoredFiles(root: string): Promise<string[]> {
  if (!existsSync(join(root, WORKTREE_INCLUDE))) return []
  const matching = await gitRaw(root, ["ls-files", "-z", "--others", "--ignored", `--exclude-from=${WORKTREE_INCLUDE}`])
  if (matching.code !== 0) return []
  const candidates = nulList(matching.stdout)
  if (candidates.length === 0) return []
  // check-ignore exits 1 when none of the paths is ignored.
  const ignored = await gitRaw(root, ["check-ignore", "-z", "--stdin"], { stdin: `${candidates.join("\0")}\0` })
  if (ignored.code !== 0 && ignored.code !== 1) return []
  return nulList(ignored.stdout).sort()
}

/** Copy the included ignored files from `from` into `to`; returns the relative paths copied. */
export async function copyIncludedFiles(from: string, to: string): Promise<string[]> {
  const files = await includedIgnoredFiles(from)
  const copied: string[] = []
  for (const rel of files) {
    const src = join(from, rel)
    const dst = join(to, rel)
    if (existsSync(dst)) continue
    mkdirSync(dirname(dst), { recursive: true })
    const st = lstatSync(src)
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst)
    else if (st.isFile()) copyFileSync(src, dst)
    else continue
    copied.push(rel)
  }
  return copied
}
