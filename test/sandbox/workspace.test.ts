import { describe, expect, test } from "bun:test"
import { mkdirSync, realpathSync } from "node:fs"
import { tmpdir as osTmpdir } from "node:os"
import { join } from "node:path"
import { UsageError, type AppError } from "../../src/errors"
import { commonParent, isSuspicious, resolveWorkspace } from "../../src/sandbox/workspace"
import { git, tmpdir } from "../support/tmpdir"

describe("resolveWorkspace", () => {
  test("inside a repository the workspace is the repository root, with its branch", async () => {
    await using repo = await tmpdir({ git: true })
    git(repo.path, "switch", "-q", "-c", "feature/x")
    mkdirSync(join(repo.path, "src", "deep"), { recursive: true })
    const ws = resolveWorkspace(join(repo.path, "src", "deep"))
    expect(ws).toEqual({ path: repo.path, branch: "feature/x", mainRoot: null, mounts: [{ source: repo.path, target: repo.path, readOnly: false, why: "workspace" }] })
  })

  test("outside a repository the directory itself is the workspace, with no branch", async () => {
    await using dir = await tmpdir()
    expect(resolveWorkspace(dir.path)).toMatchObject({ path: dir.path, branch: null, mounts: [{ source: dir.path, target: dir.path }] })
  })

  test("a missing directory is not found (exit 1)", () => {
    expect(() => resolveWorkspace("/nonexistent/scc/workspace")).toThrow(expect.objectContaining({ exitCode: 1 }))
  })

  test("suspicious roots are refused unless allowed: /, $HOME, the temp dir, /etc, /usr", () => {
    for (const dir of ["/", process.env.HOME!, osTmpdir(), "/etc", "/usr"]) {
      expect(isSuspicious(dir)).toBe(true)
      let error: unknown
      try {
        resolveWorkspace(dir)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(UsageError)
      expect((error as AppError).hint).toContain("--allow-suspicious-workspace")
      expect(resolveWorkspace(dir, { allowSuspicious: true }).path).toBe(realpathSync(dir))
    }
  })

  test("the home directory's parents are suspicious too, its subdirectories are not", () => {
    const home = "/home/alice"
    expect(isSuspicious("/home", home)).toBe(true)
    expect(isSuspicious(home, home)).toBe(true)
    expect(isSuspicious("/home/alice/src/app", home)).toBe(false)
  })

  test("a linked worktree mounts the common parent of the worktree and its main repository", async () => {
    await using parent = await tmpdir()
    const main = join(parent.path, "app")
    mkdirSync(main)
    git(main, "init", "-q", "-b", "main")
    git(main, "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "init")
    const wt = join(parent.path, "app-worktrees", "feature")
    git(main, "worktree", "add", "-q", "-b", "scc/feature", wt)
    const ws = resolveWorkspace(join(wt))
    expect(ws.path).toBe(wt)
    expect(ws.branch).toBe("scc/feature")
    expect(ws.mainRoot).toBe(main)
    expect(ws.mounts).toEqual([{ source: parent.path, target: parent.path, readOnly: false, why: "worktree and its main repository" }])
  })

  test("when that common parent is broad, the worktree and the main repo's git dir are mounted instead", async () => {
    await using a = await tmpdir()
    await using b = await tmpdir()
    git(a.path, "init", "-q", "-b", "main")
    git(a.path, "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "init")
    const wt = join(b.path, "wt")
    git(a.path, "worktree", "add", "-q", "-b", "scc/x", wt)
    expect(isSuspicious(commonParent(a.path, wt))).toBe(true)
    const ws = resolveWorkspace(wt)
    expect(ws.mounts.map((m) => m.source)).toEqual([wt, join(a.path, ".git")])
    expect(ws.mounts.every((m) => m.source === m.target && !m.readOnly)).toBe(true)
  })
})

test("commonParent", () => {
  expect(commonParent("/a/b/c", "/a/b-worktrees/x")).toBe("/a")
  expect(commonParent("/a/b", "/a/b/c")).toBe("/a/b")
  expect(commonParent("/x", "/y")).toBe("/")
})
