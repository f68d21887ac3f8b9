import { PrerequisiteError, ToolError } from "../errors"
import { processEnv } from "../flag"

// The one place that spawns git. Output is captured (git's progress and
// messages never reach our stdout); a failure becomes a ToolError carrying
// git's own message, which is usually the best hint there is.

export type GitResult = { code: number; stdout: string; stderr: string }

export type GitOptions = { stdin?: string; env?: Record<string, string> }

/** Run git in `cwd`; resolves with the exit code and output whatever git answers. */
export async function gitRaw(cwd: string, args: string[], opts: GitOptions = {}): Promise<GitResult> {
  let proc
  try {
    proc = Bun.spawn(["git", ...args], {
      cwd,
      env: opts.env ? { ...processEnv(), ...opts.env } : undefined,
      stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
      stdout: "pipe",
      stderr: "pipe",
    })
  } catch (e) {
    throw new PrerequisiteError("git is not installed or not on PATH", { hint: "install git (e.g. `apt-get install git`)", cause: e })
  }
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr }
}

/** Run git and return its stdout; a non-zero exit is a ToolError (exit 4) with git's message. */
export async function git(cwd: string, args: string[], opts: GitOptions = {}): Promise<string> {
  const r = await gitRaw(cwd, args, opts)
  if (r.code !== 0) {
    const message = r.stderr.trim().split("\n").filter(Boolean).at(-1) ?? `exit ${r.code}`
    throw new ToolError(`git ${args[0]} failed: ${message}`, { details: { args, code: r.code, stderr: r.stderr.trim() } })
  }
  return r.stdout
}
