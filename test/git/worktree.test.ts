import { expect, test } from "bun:test"
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { ConflictError, NotFoundError, ToolError, UsageError } from "../../src/errors"
import { detectPackageManagers } from "../../src/git/deps"
import { createWorktree, matchWorktree, pruneWorktrees, removeWorktree, worktreeNames } from "../../src/git/worktree"
import { includedIgnoredFiles } from "../../src/git/worktree-include"
import { listWorktrees, parseStatus } from "../../src/git/worktree-list"
import { switchWorktree } from "../../src/git/worktree-switch"
import { git, tmpdir } from "../support/tmpdir"
import { commitFile, repoWithParent } from "./helpers"

test("create makes <repo>-worktrees/<name> on scc/<sanitised-name> from the current branch", async () => {
  await using t = await repoWithParent()
  const wt = await createWorktree(t.repo, "Fix Login Bug")
  expect(wt.path).toBe(join(t.worktrees, "fix-login-bug"))
  expect(wt.branch).toBe("scc/fix-login-bug")
  expect(wt.base).toBe("main")
  expect(git(wt.path, "branch", "--show-current")).toBe("scc/fix-login-bug")
  expect(readFileSync(join(wt.path, "README.md"), "utf8")).toBe("hello\n")
  await expect(createWorktree(t.repo, "fix login bug")).rejects.toBeInstanceOf(ConflictError)
  expect(worktreeNames("scc/feature/x")).toEqual({ branch: "scc/feature/x", dir: "feature-x" })
})

test("create --base starts from that branch; an unknown base is not found", async () => {
  await using t = await repoWithParent()
  git(t.repo, "switch", "-q", "-c", "develop")
  commitFile(t.repo, "dev.txt", "dev\n")
  git(t.repo, "switch", "-q", "main")
  const wt = await createWorktree(t.repo, "on-dev", { base: "develop" })
  expect(existsSync(join(wt.path, "dev.txt"))).toBe(true)
  await expect(createWorktree(t.repo, "x", { base: "nope" })).rejects.toBeInstanceOf(NotFoundError)
})

test(".worktreeinclude copies only git-ignored files it lists, keeping modes and gitignore semantics", async () => {
  await using t = await repoWithParent()
  commitFile(t.repo, ".gitignore", ".env\n*.key\nlocal/\nnot-listed.txt\n")
  commitFile(t.repo, ".worktreeinclude", "# secrets\n.env\nsecrets/*.key\n!secrets/skip.key\nlocal/\nuntracked.txt\nREADME.md\n")
  writeFileSync(join(t.repo, ".env"), "TOKEN=1\n")
  chmodSync(join(t.repo, ".env"), 0o600)
  mkdirSync(join(t.repo, "secrets"))
  writeFileSync(join(t.repo, "secrets", "dev.key"), "k")
  writeFileSync(join(t.repo, "secrets", "skip.key"), "s") // ignored, but negated in .worktreeinclude
  mkdirSync(join(t.repo, "local", "deep"), { recursive: true })
  writeFileSync(join(t.repo, "local", "deep", "cfg.json"), "{}")
  writeFileSync(join(t.repo, "untracked.txt"), "listed but not ignored")
  writeFileSync(join(t.repo, "not-listed.txt"), "ignored but not listed")

  expect(await includedIgnoredFiles(t.repo)).toEqual([".env", "local/deep/cfg.json", "secrets/dev.key"])
  const wt = await createWorktree(t.repo, "inc")
  expect(wt.copied).toEqual([".env", "local/deep/cfg.json", "secrets/dev.key"])
  expect(readFileSync(join(wt.path, ".env"), "utf8")).toBe("TOKEN=1\n")
  expect(statSync(join(wt.path, ".env")).mode & 0o777).toBe(0o600)
  expect(existsSync(join(wt.path, "secrets", "skip.key"))).toBe(false)
  expect(existsSync(join(wt.path, "untracked.txt"))).toBe(false)
  expect(existsSync(join(wt.path, "not-listed.txt"))).toBe(false)
  // the copies stay ignored in the worktree: nothing shows up as a change
  expect(git(wt.path, "status", "--porcelain")).toBe("")
})

test("list reports path, branch, head and staged/modified/untracked counts", async () => {
  await using t = await repoWithParent()
  commitFile(t.repo, "a.txt", "a\n")
  commitFile(t.repo, "b.txt", "b\n")
  const wt = await createWorktree(t.repo, "counts")
  writeFileSync(join(wt.path, "a.txt"), "changed\n") // modified
  writeFileSync(join(wt.path, "b.txt"), "staged\n")
  git(wt.path, "add", "b.txt") // staged
  writeFileSync(join(wt.path, "new1.txt"), "n") // untracked
  writeFileSync(join(wt.path, "new2.txt"), "n")
  git(wt.path, "mv", "README.md", "README2.md") // a rename: staged, one entry

  const list = await listWorktrees(t.repo)
  expect(list.map((w) => [w.name, w.branch, w.main])).toEqual([
    ["app", "main", true],
    ["counts", "scc/counts", false],
  ])
  expect(list[0]!.changes).toEqual({ staged: 0, modified: 0, untracked: 0 })
  expect(list[1]!.changes).toEqual({ staged: 2, modified: 1, untracked: 2 })
  expect(list[1]!.head).toBe(git(wt.path, "rev-parse", "HEAD"))
  expect(list[1]!.path).toBe(wt.path)
})

test("parseStatus counts a file both staged and modified in both columns", () => {
  expect(parseStatus("MM a\0A  b\0?? c\0R  new\0old\0 D d\0")).toEqual({ staged: 3, modified: 2, untracked: 1 })
})

test("remove refuses uncommitted changes unless forced, and deletes the scc/ branch only when merged or forced", async () => {
  await using t = await repoWithParent()
  const dirty = await createWorktree(t.repo, "dirty")
  writeFileSync(join(dirty.path, "scratch.txt"), "x")
  const refused = await removeWorktree(t.repo, "dirty").catch((e) => e)
  expect(refused).toBeInstanceOf(ConflictError)
  expect(refused.message).toContain("1 untracked")
  expect(refused.hint).toContain("--force")
  expect(existsSync(dirty.path)).toBe(true)

  // merged (no new commits): branch deleted
  const clean = await createWorktree(t.repo, "clean")
  expect(await removeWorktree(t.repo, "clean")).toEqual({ path: clean.path, branch: "scc/clean", branchDeleted: true })
  expect(existsSync(clean.path)).toBe(false)
  expect(git(t.repo, "branch", "--list", "scc/clean")).toBe("")

  // unmerged commits: worktree removed, branch kept
  const ahead = await createWorktree(t.repo, "ahead")
  commitFile(ahead.path, "f.txt", "f\n")
  const kept = await removeWorktree(t.repo, "ahead")
  expect(kept.branchDeleted).toBe(false)
  expect(kept.branchKept).toContain("not merged")
  expect(git(t.repo, "branch", "--list", "scc/ahead")).toContain("scc/ahead")

  // forced: changes discarded, unmerged branch deleted
  commitFile(dirty.path, "g.txt", "g\n")
  writeFileSync(join(dirty.path, "scratch2.txt"), "x")
  expect((await removeWorktree(t.repo, "dirty", { force: true })).branchDeleted).toBe(true)
  expect(existsSync(dirty.path)).toBe(false)
  expect(git(t.repo, "branch", "--list", "scc/dirty")).toBe("")
  // the last one gone takes the empty <repo>-worktrees directory with it
  expect(existsSync(t.worktrees)).toBe(false)

  await expect(removeWorktree(t.repo, "app")).rejects.toBeInstanceOf(UsageError)
})

test("switch resolves names fuzzily, and - and ^ go back and to the main checkout", async () => {
  await using t = await repoWithParent()
  const api = await createWorktree(t.repo, "api-refactor")
  const ui = await createWorktree(t.repo, "ui-polish")
  await createWorktree(t.repo, "ui-tests")

  expect((await switchWorktree(t.repo, "api")).path).toBe(api.path) // prefix
  expect((await switchWorktree(t.repo, "scc/ui-polish")).path).toBe(ui.path) // branch
  expect((await switchWorktree(t.repo, "polish")).path).toBe(ui.path) // substring
  await expect(switchWorktree(t.repo, "ui")).rejects.toBeInstanceOf(UsageError) // ambiguous
  await expect(switchWorktree(t.repo, "zzz")).rejects.toBeInstanceOf(NotFoundError)

  // From the main checkout to api: `-` then goes back to main; from api, `^` is main.
  const toApi = await switchWorktree(t.repo, "api")
  expect(toApi.previous).toBe(t.repo)
  expect((await switchWorktree(api.path, "-")).path).toBe(t.repo)
  expect((await switchWorktree(api.path, "^")).path).toBe(t.repo)
  // From ui to main, `-` is ui.
  await switchWorktree(ui.path, "^")
  expect((await switchWorktree(t.repo, "-")).path).toBe(ui.path)
})

test("switch - without history is not found", async () => {
  await using t = await repoWithParent("fresh")
  await expect(switchWorktree(t.repo, "-")).rejects.toBeInstanceOf(NotFoundError)
})

test("prune forgets worktrees whose directory is gone", async () => {
  await using t = await repoWithParent()
  const gone = await createWorktree(t.repo, "gone")
  await createWorktree(t.repo, "kept")
  rmSync(gone.path, { recursive: true, force: true })
  expect((await listWorktrees(t.repo)).find((w) => w.name === "gone")?.prunable).toBe(true)
  expect(await pruneWorktrees(t.repo)).toEqual([gone.path])
  expect((await listWorktrees(t.repo)).map((w) => w.name)).toEqual(["app", "kept"])
  expect(await pruneWorktrees(t.repo)).toEqual([])
})

test("--install-deps runs the detected package manager (bun, offline, with a file: dependency)", async () => {
  await using t = await repoWithParent()
  // A package inside the repository (as in a monorepo), so the lockfile's relative path holds in every worktree.
  commitFile(t.repo, "packages/dep/package.json", JSON.stringify({ name: "local-dep", version: "1.0.0", main: "index.js" }))
  commitFile(t.repo, "packages/dep/index.js", "module.exports = 42\n")
  commitFile(t.repo, ".gitignore", "node_modules/\n")
  writeFileSync(join(t.repo, "package.json"), JSON.stringify({ name: "app", dependencies: { "local-dep": "file:./packages/dep" } }))
  const first = Bun.spawnSync(["bun", "install"], { cwd: t.repo, stdout: "ignore", stderr: "pipe" })
  expect(first.exitCode).toBe(0)
  git(t.repo, "add", "package.json", "bun.lock")
  git(t.repo, "commit", "-q", "-m", "deps")

  const steps: string[] = []
  const wt = await createWorktree(t.repo, "deps", { installDeps: true, install: { output: "ignore", onStep: (p, cmd) => steps.push(`${p.manager}:${cmd.join(" ")}`) } })
  expect(steps).toEqual(["bun:bun install"])
  expect(wt.installed.map((p) => p.evidence)).toEqual(["bun.lock"])
  expect(readFileSync(join(wt.path, "node_modules", "local-dep", "index.js"), "utf8")).toBe("module.exports = 42\n")
})

test("a failing install is a ToolError naming the command, and the worktree stays", async () => {
  await using t = await repoWithParent()
  commitFile(t.repo, "package.json", JSON.stringify({ name: "app", packageManager: "bun@1.4.5", dependencies: { nope: "file:/nonexistent/dep" } }))
  const err = await createWorktree(t.repo, "broken", { installDeps: true, install: { output: "ignore" } }).catch((e) => e)
  expect(err).toBeInstanceOf(ToolError)
  expect(err.exitCode).toBe(4)
  expect(err.message).toContain("`bun install` failed")
  expect(existsSync(join(t.worktrees, "broken", "package.json"))).toBe(true)
  expect((await listWorktrees(t.repo)).map((w) => w.name)).toContain("broken")
})

test("package managers are detected by lockfile, then manifest, one per ecosystem", async () => {
  await using d = await tmpdir()
  const at = (files: string[]) => {
    rmSync(d.path, { recursive: true, force: true })
    mkdirSync(d.path)
    for (const f of files) writeFileSync(join(d.path, f), f === "package.json" ? "{}" : "")
    return detectPackageManagers(d.path).map((p) => `${p.manager}:${p.steps.map((s) => s.join(" ")).join(" && ")}`)
  }
  expect(at(["package.json", "pnpm-lock.yaml"])).toEqual(["pnpm:pnpm install"])
  expect(at(["package.json", "yarn.lock"])).toEqual(["yarn:yarn install"])
  expect(at(["package.json", "package-lock.json"])).toEqual(["npm:npm ci"])
  expect(at(["package.json"])).toEqual(["npm:npm install"])
  expect(at(["pyproject.toml", "uv.lock"])).toEqual(["uv:uv sync"])
  expect(at(["requirements.txt"])).toEqual(["pip:python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt"])
  expect(at(["Cargo.toml", "go.mod", "bun.lockb"])).toEqual(["bun:bun install", "cargo:cargo fetch", "go:go mod download"])
  expect(at(["README.md"])).toEqual([])
})

test("matchWorktree prefers an exact name over a prefix of another", () => {
  const w = (name: string) => ({ path: `/r/${name}`, name, branch: `scc/${name}`, head: null, main: false, locked: false, prunable: false, changes: null })
  expect(matchWorktree([w("api"), w("api-v2")], "api").name).toBe("api")
})
