import { expect, test } from "bun:test"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cli } from "../support/cli"
import { git } from "../support/tmpdir"
import { commitFile, repoWithParent } from "../git/helpers"

test("worktree create/list/switch/remove through the binary", async () => {
  await using t = await repoWithParent()
  commitFile(t.repo, ".gitignore", ".env\n")
  commitFile(t.repo, ".worktreeinclude", ".env\n")
  writeFileSync(join(t.repo, ".env"), "A=1\n")

  const created = await cli(["worktree", "create", t.repo, "My Feature", "--json"])
  expect(created.code).toBe(0)
  const wt = created.json().data
  expect(wt).toMatchObject({ path: join(t.worktrees, "my-feature"), branch: "scc/my-feature", base: "main", copied: [".env"], installed: [] })
  expect(readFileSync(join(wt.path, ".env"), "utf8")).toBe("A=1\n")

  writeFileSync(join(wt.path, "new.txt"), "x")
  const list = await cli(["worktree", "list", "--json"], { cwd: wt.path })
  expect(list.code).toBe(0)
  expect(list.json().kind).toBe("WorktreeList")
  expect(list.json().data.map((w: any) => [w.name, w.branch, w.changes.untracked])).toEqual([
    ["app", "main", 0],
    ["my-feature", "scc/my-feature", 1],
  ])
  const text = await cli(["worktree", "list"], { cwd: t.repo })
  expect(text.stdout).toMatch(/my-feature\s+scc\/my-feature\s+[0-9a-f]{8}\s+0\s+0\s+1\s/)

  // switch prints exactly the path on stdout, for `cd "$(scc worktree switch x)"`
  const sw = await cli(["worktree", "switch", "feat"], { cwd: t.repo })
  expect(sw.code).toBe(0)
  expect(sw.stdout).toBe(`${wt.path}\n`)
  expect((await cli(["worktree", "switch", "-"], { cwd: wt.path })).stdout).toBe(`${t.repo}\n`)
  expect((await cli(["worktree", "switch", "^"], { cwd: wt.path })).stdout).toBe(`${t.repo}\n`)

  const refused = await cli(["worktree", "remove", "my-feature"], { cwd: t.repo })
  expect(refused.code).toBe(2)
  expect(refused.stderr).toContain("uncommitted changes")
  expect(refused.stderr).toContain("Try: ")
  const removed = await cli(["worktree", "remove", "my-feature", "--force", "--json"], { cwd: t.repo })
  expect(removed.code).toBe(0)
  expect(removed.json().data).toMatchObject({ branch: "scc/my-feature", branchDeleted: true })
  expect(existsSync(wt.path)).toBe(false)
})

test("worktree create --install-deps streams the tool's output to stderr; a failure is exit 4 and keeps the worktree", async () => {
  await using t = await repoWithParent()
  commitFile(t.repo, "package.json", JSON.stringify({ name: "app", packageManager: "bun@1.4.5", dependencies: { nope: "file:./missing" } }))
  const r = await cli(["worktree", "create", t.repo, "deps", "--install-deps"])
  expect(r.code).toBe(4)
  expect(r.stdout).toBe("")
  expect(r.stderr).toContain("installing dependencies (package.json): bun install")
  expect(r.stderr).toContain("bun install v") // bun's own output, streamed
  expect(r.stderr).toContain("error: `bun install` failed (exit 1)")
  expect(existsSync(join(t.worktrees, "deps", "package.json"))).toBe(true)
})

test("worktree commands outside a repository are exit 1 with a hint", async () => {
  await using t = await repoWithParent()
  const r = await cli(["worktree", "list"], { cwd: t.path })
  expect(r.code).toBe(1)
  expect(r.stderr).toContain("is not inside a git repository")
})

test("hooks install/uninstall through the binary, refusing a foreign hook with exit 2", async () => {
  await using t = await repoWithParent()
  const installed = await cli(["hooks", "install", "--json"], { cwd: t.repo })
  expect(installed.code).toBe(0)
  expect(installed.json().data).toMatchObject({ action: "installed", protected: ["main", "master", "develop", "production", "staging"] })
  expect((await cli(["hooks", "uninstall"], { cwd: t.repo })).stdout).toContain("removed")

  const hook = join(t.repo, ".git", "hooks", "pre-push")
  writeFileSync(hook, "#!/bin/sh\nexit 0\n", { mode: 0o755 })
  const refused = await cli(["hooks", "install", "--workspace", t.repo])
  expect(refused.code).toBe(2)
  expect(refused.stderr).toContain("scc did not write")
  expect(refused.stderr).toContain("pre-push.local")
  expect(readFileSync(hook, "utf8")).toBe("#!/bin/sh\nexit 0\n")
  expect(git(t.repo, "status", "--porcelain")).toBe("")
})
