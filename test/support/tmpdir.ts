import { mkdtemp, realpath, rm } from "node:fs/promises"
import { tmpdir as osTmpdir } from "node:os"
import { join } from "node:path"

export type TmpDir = { path: string; [Symbol.asyncDispose](): Promise<void> }

/** `await using tmp = await tmpdir({ git: true })`: a real directory, removed at scope end. */
export async function tmpdir(opts: { git?: boolean; prefix?: string } = {}): Promise<TmpDir> {
  const path = await realpath(await mkdtemp(join(osTmpdir(), opts.prefix ?? "scc-test-")))
  if (opts.git) {
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "user.name", "Test")
    git(path, "config", "commit.gpgsign", "false")
    git(path, "commit", "-q", "--allow-empty", "-m", "initial")
  }
  return {
    path,
    async [Symbol.asyncDispose]() {
      await rm(path, { recursive: true, force: true })
    },
  }
}

export function git(cwd: string, ...args: string[]): string {
  const r = Bun.spawnSync(["git", ...args], { cwd, stdout: "pipe", stderr: "pipe" })
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr.toString()}`)
  return r.stdout.toString().trim()
}
