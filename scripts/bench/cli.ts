// `bun run bench cli [runs]`: what a user waits for.
//  - whole process: median wall time of `scc --version` and
//    `scc config explain --json` on an org config of 50 teams, 1,000 plugins
//    and 200 MCP servers, served from a fresh cache (the normal case), next
//    to a compiled hello-world Bun binary (the floor). Target: explain within
//    2x of the floor.
//  - in-process: the merge alone (computeEffectiveConfig), first call and
//    median of 1,000 calls, for the team the CLI explains and for one team
//    that holds every plugin and server (target: under 1 ms); and explain()
//    as a whole (cache, user config, .scc.yaml and exception files read, then
//    the merge) without process start-up.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as v from "valibot"
import { generateOrgConfig } from "../../test/support/org-fixtures"
import { startOrgServer } from "../../test/support/org-server"
import { helloFloor, printTable, stats, timeCommands, type Stats } from "./_lib"

const runs = Number(process.argv[2] ?? 60)
const root = join(import.meta.dir, "..", "..")
const scc = join(root, "dist", "scc")
const dir = mkdtempSync(join(tmpdir(), "bench-cli-"))
const env: Record<string, string> = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: dir,
  XDG_CONFIG_HOME: join(dir, ".config"),
  XDG_CACHE_HOME: join(dir, ".cache"),
  XDG_DATA_HOME: join(dir, ".local/share"),
  NO_COLOR: "1",
}
for (const p of [env.XDG_CONFIG_HOME!, env.XDG_CACHE_HOME!, env.XDG_DATA_HOME!]) mkdirSync(p, { recursive: true })

const TEAM = "team-1"
const config = generateOrgConfig({ teams: 50, plugins: 1000, mcpServers: 200 })
const built = Bun.spawnSync([process.execPath, "run", "build"], { cwd: root, stdout: "ignore", stderr: "pipe" })
if (built.exitCode !== 0) throw new Error(`build failed: ${built.stderr}`)

// A user set up against a loopback org server; the first explain fills the
// cache, then the server goes away: every timed run must answer from the cache.
const gitInit = (path: string) => {
  mkdirSync(path, { recursive: true })
  if (Bun.spawnSync(["git", "init", "-q", path]).exitCode !== 0) throw new Error(`git init ${path} failed`)
  return path
}
const workspace = gitInit(join(dir, "repo"))
const project = gitInit(join(dir, "repo-with-yaml"))
writeFileSync(join(project, ".scc.yaml"), "additional_plugins:\n  - plugin-3@market-3\nsession:\n  timeout_hours: 2\n")
{
  await using server = startOrgServer(config)
  mkdirSync(join(env.XDG_CONFIG_HOME!, "scc"), { recursive: true })
  writeFileSync(join(env.XDG_CONFIG_HOME!, "scc", "config.json"), JSON.stringify({ organization_source: { url: server.url }, team: TEAM }))
  // Asynchronously: the server answers on this process's event loop.
  const first = Bun.spawn([scc, "config", "explain", "--json"], { env, cwd: workspace, stdout: "pipe", stderr: "pipe" })
  const [out, err, code] = await Promise.all([new Response(first.stdout).text(), new Response(first.stderr).text(), first.exited])
  if (code !== 0) throw new Error(`first explain failed: ${err}`)
  const data = JSON.parse(out).data
  if (data.org.origin !== "network") throw new Error(`expected the first explain to fetch, got ${data.org.origin}`)
  console.log(
    `explain of ${TEAM}: ${data.effective.plugins.length} plugins, ${data.effective.mcp_servers.length} MCP servers, ${data.blocked.length} blocked, ${data.denied.length} denied; cache ${(Bun.file(join(env.XDG_CACHE_HOME!, "scc", "org_config.json")).size / 1024).toFixed(0)} KiB`,
  )
}

const hello = await helloFloor(dir)
const rows = timeCommands(
  {
    "hello-world (floor)": { cmd: [hello] },
    "scc --version": { cmd: [scc, "--version"], env },
    "scc version --json": { cmd: [scc, "version", "--json"], env },
    "scc config explain --json": { cmd: [scc, "config", "explain", "--json"], env, cwd: workspace },
    "scc config explain (text)": { cmd: [scc, "config", "explain"], env, cwd: workspace },
    "  ... with a .scc.yaml": { cmd: [scc, "config", "explain", "--json"], env, cwd: project },
  },
  runs,
)
printTable(`whole process, ${runs} runs each (wall time; org config from a fresh cache)`, rows, "hello-world (floor)")

// In-process: the merge alone, on the config as the cache holds it (validated, defaults filled).
Object.assign(process.env, env)
const { OrgConfig } = await import("../../src/org/schema")
const { computeEffectiveConfig } = await import("../../src/governance/merge")
const { realHost } = await import("../../src/governance/stdio")
const org = v.parse(OrgConfig, config)
const heavy = v.parse(OrgConfig, {
  ...config,
  defaults: { ...config.defaults, enabled_plugins: [] },
  profiles: {
    all: {
      additional_plugins: Object.values(config.profiles).flatMap((p: any) => p.additional_plugins),
      additional_mcp_servers: Object.values(config.profiles).flatMap((p: any) => p.additional_mcp_servers),
    },
  },
  delegation: { teams: { allow_additional_plugins: ["*"], allow_additional_mcp_servers: ["*"] } },
})

// The first call is what one CLI run pays (cold code, regexes not yet
// compiled): measured in fresh processes, on the config as the cache holds it.
const coldScript = join(dir, "cold-merge.ts")
writeFileSync(join(dir, "org.json"), JSON.stringify(org))
writeFileSync(join(dir, "heavy.json"), JSON.stringify(heavy))
writeFileSync(
  coldScript,
  `import { computeEffectiveConfig } from ${JSON.stringify(join(root, "src", "governance", "merge.ts"))}
const org = JSON.parse(await Bun.file(process.argv[2]).text())
const t = performance.now()
computeEffectiveConfig({ org, team: process.argv[3], now: new Date(), host: { realpath: () => null } })
console.log(performance.now() - t)
`,
)
function cold(file: string, team: string, n = 15): Stats {
  const samples: number[] = []
  for (let i = 0; i < n; i++) {
    const r = Bun.spawnSync([process.execPath, coldScript, join(dir, file), team], { stdout: "pipe", stderr: "pipe" })
    if (r.exitCode !== 0) throw new Error(`cold merge failed: ${r.stderr}`)
    samples.push(Number(r.stdout.toString()))
  }
  return stats(samples)
}

function warm(team: string, o: typeof org, n = 1000): Stats {
  const input = { org: o, team, now: new Date(), host: realHost() }
  for (let i = 0; i < 20; i++) computeEffectiveConfig(input)
  const samples: number[] = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    computeEffectiveConfig(input)
    samples.push(performance.now() - t)
  }
  return stats(samples)
}

printTable("in-process merge (computeEffectiveConfig); target < 1 ms", {
  [`${TEAM} (~40 plugins, 4 servers), first call in 15 fresh processes`]: cold("org.json", TEAM),
  [`${TEAM}, 1,000 calls`]: warm(TEAM, org),
  "one team with all 1,000 plugins + 200 servers, first call, 15 processes": cold("heavy.json", "all"),
  "one team with all, 1,000 calls": warm("all", heavy),
})
const { explain } = await import("../../src/governance/explain")
const explainSamples: number[] = []
for (let i = 0; i < 210; i++) {
  const t = performance.now()
  const x = await explain({ workspace })
  if (i >= 10) explainSamples.push(performance.now() - t)
  if (x.org.origin !== "cache") throw new Error(`expected the cache, got ${x.org.origin}`)
}

printTable("in-process explain() (loads + merge, no process start-up), 200 calls", { [`explain() for ${TEAM}`]: stats(explainSamples) })
rmSync(dir, { recursive: true, force: true })
