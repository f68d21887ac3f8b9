// `bun run bench org [runs]`: the cost of loadOrgConfig on a fresh cache (what
// `config explain` pays on every run) for an org config of 50 teams, 1,000
// plugins and 200 MCP servers.
//  - in-process: median per call next to the bare floor (read the cache file
//    and JSON.parse it) and next to what the fast path skips (valibot);
//  - whole process: a compiled binary that only calls loadOrgConfig, next to a
//    compiled hello-world.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { generateOrgConfig } from "../../test/support/org-fixtures"
import { startOrgServer } from "../../test/support/org-server"
import { helloFloor, printTable, stats, timeCommands, type Stats } from "./_lib"

const runs = Number(process.argv[2] ?? 200)
const dir = mkdtempSync(join(tmpdir(), "bench-org-"))
const env: Record<string, string> = { HOME: dir, XDG_CONFIG_HOME: join(dir, ".config"), XDG_CACHE_HOME: join(dir, ".cache"), XDG_DATA_HOME: join(dir, ".local/share") }
for (const p of Object.values(env)) mkdirSync(p, { recursive: true })
Object.assign(process.env, env)

const { loadOrgConfig } = await import("../../src/org/load")
const { validateOrgConfig } = await import("../../src/org/validate")
const { paths } = await import("../../src/paths")

const config = generateOrgConfig({ teams: 50, plugins: 1000, mcpServers: 200 })
await using server = startOrgServer(config)
const first = await loadOrgConfig({ source: server.url })
if (first.origin !== "network") throw new Error("expected the first load to fetch")
const cacheSize = Bun.file(paths.orgConfigCache()).size

function time(fn: () => unknown): Promise<Stats> {
  return (async () => {
    const samples: number[] = []
    for (let i = 0; i < runs + 10; i++) {
      const t0 = performance.now()
      await fn()
      if (i >= 10) samples.push(performance.now() - t0)
    }
    return stats(samples)
  })()
}

const raw = JSON.parse(JSON.stringify(config))
const inProcess = {
  "read + JSON.parse (floor)": await time(async () => JSON.parse(await Bun.file(paths.orgConfigCache()).text())),
  "loadOrgConfig, fresh cache": await time(async () => {
    const r = await loadOrgConfig({ source: server.url })
    if (r.origin !== "cache") throw new Error(`expected a cache hit, got ${r.origin}`)
  }),
  "validateOrgConfig (skipped)": await time(() => validateOrgConfig(raw)),
  "loadOrgConfig, 304 revalidation": await time(() => loadOrgConfig({ source: server.url, refresh: true })),
}
if (server.requests.length !== 1 + runs + 10) throw new Error(`unexpected request count ${server.requests.length}`)
printTable(`in-process, ${runs} calls each; cache file ${(cacheSize / 1024).toFixed(0)} KiB`, inProcess, "read + JSON.parse (floor)")

// A binary whose only work is loadOrgConfig: the whole-process cost explain pays for it.
const entry = join(dir, "load-entry.ts")
await Bun.write(entry, `import { loadOrgConfig } from ${JSON.stringify(join(import.meta.dir, "..", "..", "src", "org", "load.ts"))}\nconst r = await loadOrgConfig()\nif (r.origin !== "cache") process.exit(9)\nconsole.log(r.config.organization.name)\n`)
const loadPath = JSON.stringify(join(import.meta.dir, "..", "..", "src", "org", "load.ts"))
const validatePath = JSON.stringify(join(import.meta.dir, "..", "..", "src", "org", "validate.ts"))
// The same, plus what the fast path avoids: loading valibot and validating the cached config cold.
const revalidateEntry = join(dir, "revalidate-entry.ts")
await Bun.write(revalidateEntry, `import { loadOrgConfig } from ${loadPath}\nimport { validateOrgConfig } from ${validatePath}\nconst r = await loadOrgConfig()\nif (validateOrgConfig(r.config).errors.length) process.exit(9)\nconsole.log(r.config.organization.name)\n`)

// Built like scripts/build.ts (code splitting), so what load.ts imports lazily stays out of start-up.
async function compile(entrypoint: string, outfile: string): Promise<string> {
  const built = await Bun.build({
    entrypoints: [entrypoint],
    target: "bun",
    minify: true,
    splitting: true,
    compile: { outfile, autoloadDotenv: false, autoloadBunfig: false, autoloadTsconfig: false, autoloadPackageJson: false },
  })
  if (!built.success) throw new Error(`compiling ${entrypoint} failed: ${built.logs.join("\n")}`)
  return outfile
}
const loader = await compile(entry, join(dir, "load-entry"))
const revalidator = await compile(revalidateEntry, join(dir, "revalidate-entry"))
const hello = await helloFloor(dir)
const procEnv = { ...env, PATH: process.env.PATH ?? "", SCC_ORG_SOURCE: server.url }
const wholeRuns = Math.min(runs, 60)
const whole = timeCommands(
  {
    "hello-world (floor)": { cmd: [hello] },
    "loadOrgConfig binary": { cmd: [loader], env: procEnv },
    "... + valibot validation": { cmd: [revalidator], env: procEnv },
  },
  wholeRuns,
)
printTable(`whole process, ${wholeRuns} runs each (wall time)`, whole, "hello-world (floor)")

await server.stop()
rmSync(dir, { recursive: true, force: true })
