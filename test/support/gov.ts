import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cli, type CliOptions, type CliResult } from "./cli"
import { homeEnv } from "./org-fixtures"
import { tmpdir, type TmpDir } from "./tmpdir"

// A user with an org config (a local file source, or any source you give),
// a team, and a git repository to run commands in. `await using` removes it.

export type GovWorld = {
  home: string
  repo: string
  env: Record<string, string>
  userExceptions: string
  repoExceptions: string
  run(args: string[], opts?: CliOptions): Promise<CliResult>
  writeOrg(config: unknown): void
  [Symbol.asyncDispose](): Promise<void>
}

export async function govWorld(org: unknown, opts: { team?: string; source?: string } = {}): Promise<GovWorld> {
  const home: TmpDir = await tmpdir({ prefix: "scc-gov-home-" })
  const repo: TmpDir = await tmpdir({ git: true, prefix: "scc-gov-repo-" })
  const orgPath = join(home.path, "org.json")
  const writeOrg = (config: unknown) => writeFileSync(orgPath, JSON.stringify(config))
  if (org !== undefined) writeOrg(org)
  mkdirSync(join(home.path, ".config", "scc"), { recursive: true })
  writeFileSync(join(home.path, ".config", "scc", "config.json"), JSON.stringify({ organization_source: { url: opts.source ?? orgPath }, team: opts.team }))
  const env = homeEnv(home.path)
  return {
    home: home.path,
    repo: repo.path,
    env,
    userExceptions: join(home.path, ".config", "scc", "exceptions.json"),
    repoExceptions: join(repo.path, ".scc", "exceptions.json"),
    run: (args, o = {}) => cli(args, { cwd: repo.path, ...o, env: { ...env, ...o.env } }),
    writeOrg,
    async [Symbol.asyncDispose]() {
      await repo[Symbol.asyncDispose]()
      await home[Symbol.asyncDispose]()
    },
  }
}
