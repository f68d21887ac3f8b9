import { expect, test } from "bun:test"
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { ConflictError } from "../../src/errors"
import { HOOK_MARKER, hooksDir, installPrePushHook, uninstallPrePushHook } from "../../src/git/hooks"
import { git } from "../support/tmpdir"
import { commitFile, repoWithParent, type Repo } from "./helpers"

// Every push here is a real `git push` to a real bare repository; the hook is
// the installed sh script, run by git with no scc on PATH.

function push(repo: string, ...args: string[]) {
  const r = Bun.spawnSync(["git", "push", "origin", ...args], { cwd: repo, stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/bin:/bin", HOME: repo } })
  return { code: r.exitCode, stderr: r.stderr.toString() }
}

async function withRemote(t: Repo): Promise<string> {
  const remote = join(t.path, "remote.git")
  git(t.path, "init", "-q", "--bare", remote)
  git(t.repo, "remote", "add", "origin", remote)
  return remote
}

const remoteHas = (remote: string, ref: string) => Bun.spawnSync(["git", "rev-parse", "--verify", "--quiet", ref], { cwd: remote }).exitCode === 0

test("the hook refuses pushes to protected branches and lets other pushes through", async () => {
  await using t = await repoWithParent()
  const remote = await withRemote(t)
  const installed = await installPrePushHook(t.repo)
  expect(installed.action).toBe("installed")
  expect(installed.path).toBe(join(t.repo, ".git", "hooks", "pre-push"))
  expect(statSync(installed.path).mode & 0o111).toBe(0o111)
  expect(readFileSync(installed.path, "utf8")).toContain(HOOK_MARKER)

  const refused = push(t.repo, "main")
  expect(refused.code).not.toBe(0)
  expect(refused.stderr).toContain("refusing push to protected branch 'main'")
  expect(remoteHas(remote, "refs/heads/main")).toBe(false)

  const allowed = push(t.repo, "HEAD:refs/heads/scc/feature")
  expect(allowed.code).toBe(0)
  expect(remoteHas(remote, "refs/heads/scc/feature")).toBe(true)

  // Case does not matter, and one protected ref in a multi-ref push refuses the whole push.
  const mixed = push(t.repo, "HEAD:refs/heads/other", "HEAD:refs/heads/MASTER")
  expect(mixed.code).not.toBe(0)
  expect(mixed.stderr).toContain("'MASTER' (matches 'master')")
  expect(remoteHas(remote, "refs/heads/other")).toBe(false)
})

test("force-pushes and deletions of protected branches are refused and named as such", async () => {
  await using t = await repoWithParent()
  const remote = await withRemote(t)
  expect(push(t.repo, "main").code).toBe(0) // before the hook
  await installPrePushHook(t.repo)
  git(t.repo, "commit", "-q", "--amend", "-m", "rewritten")
  const forced = push(t.repo, "--force", "main")
  expect(forced.code).not.toBe(0)
  expect(forced.stderr).toContain("refusing force-push to protected branch 'main'")
  const deleted = push(t.repo, ":main")
  expect(deleted.code).not.toBe(0)
  expect(deleted.stderr).toContain("refusing delete to protected branch 'main'")
  expect(remoteHas(remote, "refs/heads/main")).toBe(true)
})

test("glob patterns from the configuration are written into the hook", async () => {
  await using t = await repoWithParent()
  await withRemote(t)
  await installPrePushHook(t.repo, { protectedBranches: ["release/*", "trunk"] })
  expect(push(t.repo, "HEAD:refs/heads/release/1.0").stderr).toContain("matches 'release/*'")
  expect(push(t.repo, "HEAD:refs/heads/main").code).toBe(0)
  // Installing again updates our own hook in place.
  expect((await installPrePushHook(t.repo, { protectedBranches: ["main"] })).action).toBe("updated")
  expect(push(t.repo, "HEAD:refs/heads/release/1.0").code).toBe(0)
})

test("a foreign hook is never overwritten or removed; renamed to pre-push.local it runs after our check", async () => {
  await using t = await repoWithParent()
  await withRemote(t)
  const hook = join(t.repo, ".git", "hooks", "pre-push")
  const log = join(t.path, "local-hook.log")
  const foreign = `#!/bin/sh\ncat > ${log}\ncase "$(cat ${log})" in *refs/heads/blocked-by-local*) exit 1 ;; esac\n`
  writeFileSync(hook, foreign, { mode: 0o755 })

  const err = await installPrePushHook(t.repo).catch((e) => e)
  expect(err).toBeInstanceOf(ConflictError)
  expect(err.hint).toContain("pre-push.local")
  expect(readFileSync(hook, "utf8")).toBe(foreign)
  await expect(uninstallPrePushHook(t.repo)).rejects.toBeInstanceOf(ConflictError)
  expect(readFileSync(hook, "utf8")).toBe(foreign)

  renameSync(hook, `${hook}.local`)
  await installPrePushHook(t.repo)
  expect(push(t.repo, "HEAD:refs/heads/ok").code).toBe(0)
  expect(readFileSync(log, "utf8")).toContain("refs/heads/ok") // the local hook got git's refs on stdin
  expect(push(t.repo, "HEAD:refs/heads/blocked-by-local").code).not.toBe(0)
  expect(push(t.repo, "main").stderr).toContain("protected branch 'main'")
})

test("core.hooksPath is respected, and uninstall removes only our hook", async () => {
  await using t = await repoWithParent()
  await withRemote(t)
  mkdirSync(join(t.repo, ".githooks"))
  git(t.repo, "config", "core.hooksPath", ".githooks")
  expect(await hooksDir(t.repo)).toBe(join(t.repo, ".githooks"))
  const { path } = await installPrePushHook(t.repo)
  expect(path).toBe(join(t.repo, ".githooks", "pre-push"))
  expect(existsSync(join(t.repo, ".git", "hooks", "pre-push"))).toBe(false)
  expect(push(t.repo, "main").code).not.toBe(0)

  expect(await uninstallPrePushHook(t.repo)).toEqual({ path, removed: true })
  expect(existsSync(path)).toBe(false)
  expect(await uninstallPrePushHook(t.repo)).toEqual({ path, removed: false })
  expect(push(t.repo, "main").code).toBe(0)
})

test("a linked worktree shares the repository's hook", async () => {
  await using t = await repoWithParent()
  await withRemote(t)
  await installPrePushHook(t.repo)
  const wt = join(t.path, "wt")
  git(t.repo, "worktree", "add", "-q", "-b", "side", wt)
  commitFile(wt, "x.txt", "x\n")
  expect(push(wt, "HEAD:refs/heads/main").code).not.toBe(0)
  expect(push(wt, "side").code).toBe(0)
})
