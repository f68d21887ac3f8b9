import { expect, test } from "bun:test"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { checkBranchSafety, createWorkBranch, protectedBy, ProtectedBranchError, sanitizeBranchName, suggestWorkBranch } from "../../src/git/branch"
import { currentBranch, projectName, repoLayout } from "../../src/git/root"
import { writeUserConfig } from "../../src/org/user-config"
import { paths } from "../../src/paths"
import { git, tmpdir } from "../support/tmpdir"

test("sanitizeBranchName makes free text a valid git branch name", () => {
  expect(sanitizeBranchName("Fix Login Bug!")).toBe("fix-login-bug")
  expect(sanitizeBranchName("  feature//a..b/.hidden/x.lock ")).toBe("feature/a.b/hidden/x")
  expect(sanitizeBranchName("-lead")).toBe("lead")
  expect(sanitizeBranchName("Ünïcode Name")).toBe("unicode-name")
  expect(() => sanitizeBranchName("!!!")).toThrow(/nothing usable/)
  // git agrees the results are valid
  for (const name of ["Fix Login Bug!", "  feature//a..b/.hidden/x.lock ", "ünïcode name"]) {
    const r = Bun.spawnSync(["git", "check-ref-format", "--branch", sanitizeBranchName(name)])
    expect(r.exitCode).toBe(0)
  }
})

test("protectedBy matches globs case-insensitively", () => {
  expect(protectedBy("main", ["main", "release/*"])).toBe("main")
  expect(protectedBy("Release/1.2", ["main", "release/*"])).toBe("release/*")
  expect(protectedBy("feature/x", ["main", "release/*"])).toBeUndefined()
})

test("on a protected branch: refuse when non-interactive, prompt when interactive, proceed when allowed", async () => {
  await using repo = await tmpdir({ git: true })
  const refuse = await checkBranchSafety(repo.path, { interactive: false })
  expect(refuse.action).toBe("refuse")
  if (refuse.action !== "refuse") throw new Error("unreachable")
  expect(refuse.error).toBeInstanceOf(ProtectedBranchError)
  expect(refuse.error.exitCode).toBe(2)
  expect(refuse.error.hint).toContain("--branch")
  expect(refuse.error.hint).toContain("--allow-protected")

  const prompt = await checkBranchSafety(repo.path, { interactive: true, user: "Ada L", now: new Date("2025-03-04T05:06:07Z") })
  expect(prompt).toEqual({ action: "prompt", from: "main", protectedBy: "main", suggestion: "scc/ada-l-20250304-0506" })

  expect(await checkBranchSafety(repo.path, { interactive: false, allowProtected: true })).toEqual({ action: "proceed", branch: "main", reason: "allowed" })
  expect(await checkBranchSafety(repo.path, { interactive: false, branch: "My Work" })).toEqual({ action: "create_branch", from: "main", branch: "my-work" })
  await expect(checkBranchSafety(repo.path, { interactive: false, branch: "master" })).rejects.toBeInstanceOf(ProtectedBranchError)
})

test("an unprotected, detached or non-repo checkout proceeds", async () => {
  await using repo = await tmpdir({ git: true })
  git(repo.path, "switch", "-q", "-c", "feature/x")
  expect(await checkBranchSafety(repo.path, { interactive: false })).toEqual({ action: "proceed", branch: "feature/x", reason: "not_protected" })
  git(repo.path, "switch", "-q", "--detach")
  expect(await checkBranchSafety(repo.path, { interactive: false })).toEqual({ action: "proceed", branch: null, reason: "detached" })
  await using plain = await tmpdir()
  expect(await checkBranchSafety(plain.path, { interactive: false })).toEqual({ action: "proceed", branch: null, reason: "not_a_repo" })
})

test("protected branches come from the user config's preferences.protected_branches", async () => {
  await using repo = await tmpdir({ git: true })
  git(repo.path, "switch", "-q", "-c", "trunk")
  try {
    expect((await checkBranchSafety(repo.path, { interactive: false })).action).toBe("proceed")
    writeUserConfig({ schema_version: 1, preferences: { protected_branches: ["trunk"] } })
    expect((await checkBranchSafety(repo.path, { interactive: false })).action).toBe("refuse")
  } finally {
    writeFileSync(paths.sccConfigFile(), "{}")
  }
})

test("createWorkBranch creates the branch with uncommitted changes, or switches to an existing one", async () => {
  await using repo = await tmpdir({ git: true })
  writeFileSync(join(repo.path, "wip.txt"), "work in progress")
  expect(await createWorkBranch(repo.path, "scc/My Change")).toBe("scc/my-change")
  expect(currentBranch(repo.path)).toBe("scc/my-change")
  expect(git(repo.path, "status", "--porcelain")).toBe("?? wip.txt")
  git(repo.path, "switch", "-q", "main")
  expect(await createWorkBranch(repo.path, "scc/my-change")).toBe("scc/my-change")
  expect(currentBranch(repo.path)).toBe("scc/my-change")
})

test("repoLayout and projectName see through a linked worktree to its main checkout", async () => {
  await using repo = await tmpdir({ git: true, prefix: "proj-" })
  const wt = `${repo.path}-wt`
  git(repo.path, "worktree", "add", "-q", "-b", "side", wt)
  try {
    const layout = repoLayout(join(wt))!
    expect(layout.linked).toBe(true)
    expect(layout.root).toBe(wt)
    expect(layout.mainRoot).toBe(repo.path)
    expect(layout.commonDir).toBe(join(repo.path, ".git"))
    expect(currentBranch(wt)).toBe("side")
    expect(projectName(wt)).toBe(projectName(repo.path))
    expect(suggestWorkBranch(undefined, new Date("2025-01-02T03:04:00Z"))).toBe("scc/20250102-0304")
  } finally {
    git(repo.path, "worktree", "remove", "--force", wt)
  }
})
