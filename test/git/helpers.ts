import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { git, tmpdir, type TmpDir } from "../support/tmpdir"

// A real repository inside its own temp directory, so the `<repo>-worktrees`
// sibling that worktree commands create is removed with it.

export type Repo = TmpDir & { repo: string; worktrees: string }

export async function repoWithParent(name = "app"): Promise<Repo> {
  const parent = await tmpdir({ prefix: "scc-wt-" })
  const repo = join(parent.path, name)
  mkdirSync(repo)
  git(repo, "init", "-q", "-b", "main")
  git(repo, "config", "user.email", "test@example.com")
  git(repo, "config", "user.name", "Test")
  git(repo, "config", "commit.gpgsign", "false")
  writeFileSync(join(repo, "README.md"), "hello\n")
  git(repo, "add", ".")
  git(repo, "commit", "-q", "-m", "initial")
  return Object.assign(parent, { repo, worktrees: join(parent.path, `${name}-worktrees`) })
}

export function commitFile(repo: string, path: string, content: string, message = `add ${path}`): void {
  mkdirSync(join(repo, path, ".."), { recursive: true })
  writeFileSync(join(repo, path), content)
  git(repo, "add", path)
  git(repo, "commit", "-q", "-m", message)
}
