import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { PrerequisiteError, ToolError } from "../errors"

// Installing a new worktree's dependencies. The package manager is read from
// the lockfile (the most specific signal), then the manifest. One plan per
// ecosystem, so a repo with package.json and Cargo.toml gets both.

export type PackageManager = "bun" | "pnpm" | "yarn" | "npm" | "uv" | "pip" | "cargo" | "go"

export type InstallPlan = {
  manager: PackageManager
  /** The file that decided it (lockfile or manifest). */
  evidence: string
  /** Commands run in order, in the worktree. */
  steps: string[][]
}

function jsPlan(dir: string): InstallPlan | null {
  const has = (f: string) => existsSync(join(dir, f))
  if (has("bun.lock")) return { manager: "bun", evidence: "bun.lock", steps: [["bun", "install"]] }
  if (has("bun.lockb")) return { manager: "bun", evidence: "bun.lockb", steps: [["bun", "install"]] }
  if (has("pnpm-lock.yaml")) return { manager: "pnpm", evidence: "pnpm-lock.yaml", steps: [["pnpm", "install"]] }
  if (has("yarn.lock")) return { manager: "yarn", evidence: "yarn.lock", steps: [["yarn", "install"]] }
  if (has("package-lock.json")) return { manager: "npm", evidence: "package-lock.json", steps: [["npm", "ci"]] }
  if (!has("package.json")) return null
  // No lockfile: package.json's `packageManager` field ("pnpm@9.1.0"), else npm.
  let declared: string | undefined
  try {
    const pm = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { packageManager?: unknown }).packageManager
    if (typeof pm === "string") declared = pm.split("@")[0]
  } catch {
    // a broken package.json is the package manager's to report
  }
  const manager: PackageManager = declared === "bun" || declared === "pnpm" || declared === "yarn" ? declared : "npm"
  return { manager, evidence: "package.json", steps: [[manager, "install"]] }
}

function pythonPlan(dir: string): InstallPlan | null {
  const has = (f: string) => existsSync(join(dir, f))
  if (has("uv.lock")) return { manager: "uv", evidence: "uv.lock", steps: [["uv", "sync"]] }
  // pip installs into a project-local virtualenv, never into the system Python.
  const venv = [["python3", "-m", "venv", ".venv"]]
  const pip = [".venv/bin/python", "-m", "pip", "install"]
  if (has("requirements.txt")) return { manager: "pip", evidence: "requirements.txt", steps: [...venv, [...pip, "-r", "requirements.txt"]] }
  if (has("pyproject.toml")) return { manager: "pip", evidence: "pyproject.toml", steps: [...venv, [...pip, "-e", "."]] }
  return null
}

/** The install plans for `dir`, in a stable order (JS, Python, Rust, Go). */
export function detectPackageManagers(dir: string): InstallPlan[] {
  const plans = [jsPlan(dir), pythonPlan(dir)]
  if (existsSync(join(dir, "Cargo.toml"))) plans.push({ manager: "cargo", evidence: "Cargo.toml", steps: [["cargo", "fetch"]] })
  if (existsSync(join(dir, "go.mod"))) plans.push({ manager: "go", evidence: "go.mod", steps: [["go", "mod", "download"]] })
  return plans.filter((p): p is InstallPlan => p !== null)
}

export type InstallOptions = {
  /** Called before each command, for a progress line. */
  onStep?: (plan: InstallPlan, cmd: string[]) => void
  /** Where the tools' own output goes: a file descriptor (default 2, stderr) or "ignore". */
  output?: number | "ignore"
}

/**
 * Run the plans in `dir`, streaming the tools' output (stdout and stderr) to
 * `output` so progress is visible. A failing command is a ToolError naming
 * it; a missing tool is a PrerequisiteError. Nothing is undone on failure.
 */
export async function installDependencies(dir: string, plans: InstallPlan[], opts: InstallOptions = {}): Promise<void> {
  const output = opts.output ?? 2
  for (const plan of plans) {
    for (const cmd of plan.steps) {
      opts.onStep?.(plan, cmd)
      const shown = cmd.join(" ")
      let proc
      try {
        proc = Bun.spawn(cmd, { cwd: dir, stdin: "ignore", stdout: output, stderr: output })
      } catch (e) {
        throw new PrerequisiteError(`\`${shown}\` cannot run: ${cmd[0]} is not installed or not on PATH`, {
          hint: `install ${cmd[0]}, then run \`${shown}\` in ${dir}`,
          cause: e,
        })
      }
      const code = await proc.exited
      if (code !== 0) {
        throw new ToolError(`\`${shown}\` failed (exit ${code}) in ${dir}`, {
          hint: `the worktree is kept: fix the problem above, then run \`${shown}\` in ${dir}`,
          details: { command: cmd, exitCode: code, manager: plan.manager },
        })
      }
    }
  }
}
