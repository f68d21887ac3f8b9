import { expect, test } from "bun:test"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { workspaceRoot } from "../../src/governance/workspace"
import { git, tmpdir } from "../support/tmpdir"

test("the workspace root is the repository root, from any directory inside it", async () => {
  await using repo = await tmpdir({ git: true })
  mkdirSync(join(repo.path, "a", "b"), { recursive: true })
  expect(await workspaceRoot(repo.path)).toBe(repo.path)
  expect(await workspaceRoot(join(repo.path, "a", "b"))).toBe(repo.path)
})

test("a linked worktree (a .git file) is its own root", async () => {
  await using repo = await tmpdir({ git: true })
  await using wt = await tmpdir()
  const path = join(wt.path, "linked")
  git(repo.path, "worktree", "add", "-q", path)
  mkdirSync(join(path, "sub"))
  expect(await workspaceRoot(join(path, "sub"))).toBe(path)
})

test("outside any repository the directory itself is the root", async () => {
  await using dir = await tmpdir()
  mkdirSync(join(dir.path, "x"))
  writeFileSync(join(dir.path, "x", "file"), "")
  expect(await workspaceRoot(join(dir.path, "x"))).toBe(join(dir.path, "x"))
})
