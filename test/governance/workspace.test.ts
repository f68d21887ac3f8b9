import { expect, test } from "bun:test"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { findWorkspace } from "../../src/governance/workspace"
import { git, tmpdir } from "../support/tmpdir"

test("the workspace root is the repository root, from any directory inside it", async () => {
  await using repo = await tmpdir({ git: true })
  mkdirSync(join(repo.path, "a", "b"), { recursive: true })
  expect(await findWorkspace(repo.path)).toEqual({ root: repo.path, repo: true })
  expect(await findWorkspace(join(repo.path, "a", "b"))).toEqual({ root: repo.path, repo: true })
})

test("a linked worktree (a .git file) is its own root", async () => {
  await using repo = await tmpdir({ git: true })
  await using wt = await tmpdir()
  const path = join(wt.path, "linked")
  git(repo.path, "worktree", "add", "-q", path)
  mkdirSync(join(path, "sub"))
  expect(await findWorkspace(join(path, "sub"))).toEqual({ root: path, repo: true })
})

test("outside any repository the directory itself is the root", async () => {
  await using dir = await tmpdir()
  mkdirSync(join(dir.path, "x"))
  writeFileSync(join(dir.path, "x", "file"), "")
  expect(await findWorkspace(join(dir.path, "x"))).toEqual({ root: join(dir.path, "x"), repo: false })
})
