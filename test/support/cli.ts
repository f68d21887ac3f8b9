import { existsSync } from "node:fs"
import { join } from "node:path"

// Runs the compiled binary, the thing users run. `bun run test` builds it
// first; a missing binary fails loudly instead of testing stale code.

export const DIST = join(import.meta.dir, "..", "..", "dist")

export function binary(name: "scc" | "cca" = "scc"): string {
  const path = join(DIST, name)
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`bun run build\` (or \`bun run test\`, which builds first)`)
  return path
}

export type CliResult = { code: number; stdout: string; stderr: string; json<T = any>(): T }

export type CliOptions = {
  name?: "scc" | "cca"
  cwd?: string
  env?: Record<string, string | undefined>
  stdin?: string
  timeoutMs?: number
}

export async function cli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, ...opts.env })) if (v !== undefined) env[k] = v
  const proc = Bun.spawn([binary(opts.name), ...args], {
    cwd: opts.cwd,
    env,
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
    timeout: opts.timeoutMs ?? 30_000,
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return {
    code,
    stdout,
    stderr,
    json() {
      try {
        return JSON.parse(stdout)
      } catch {
        throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`)
      }
    },
  }
}
