// `bun run bench start [runs]`: what `scc start` costs.
// 1. `start --dry-run` (org config from a local file, a real git workspace):
//    whole-process wall time next to a compiled hello-world binary (the floor)
//    and `config explain`, which computes the same effective config.
// 2. `start --detach` until the container runs, next to `podman run -d` of the
//    same image against the same storage (the floor; target within 1.3x). The
//    engine is a throwaway Podman service (test/support/podman.ts); each run
//    uses a fresh workspace, and removing the container is not timed.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startPodman, TEST_IMAGE } from "../../test/support/podman"
import { helloFloor, printTable, stats, timeCommands, type Stats } from "./_lib"

const runs = Number(process.argv[2] ?? 20)
const scc = join(import.meta.dir, "..", "..", "dist", "scc")
const dir = mkdtempSync(join(tmpdir(), "bench-start-"))
const home = join(dir, "home")
mkdirSync(join(home, ".config", "scc"), { recursive: true })
writeFileSync(
  join(dir, "org.json"),
  JSON.stringify({
    schema_version: "1.0",
    organization: { name: "Bench Org", id: "bench" },
    marketplaces: { tools: { source: "github", repo: "bench/tools" } },
    defaults: {
      enabled_plugins: ["lint@tools"],
      mcp_servers: [{ name: "docs", type: "http", url: "https://mcp.example.com/docs" }],
      sandbox: { image: TEST_IMAGE },
    },
    profiles: { platform: { description: "bench team" } },
    stats: { enabled: false },
  }),
)
writeFileSync(join(home, ".config", "scc", "config.json"), JSON.stringify({ organization_source: { url: join(dir, "org.json") }, team: "platform" }))

function git(cwd: string, ...args: string[]): void {
  const r = Bun.spawnSync(["git", "-c", "user.email=b@e", "-c", "user.name=b", ...args], { cwd, stderr: "pipe" })
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`)
}
function workspace(name: string): string {
  const ws = join(dir, name)
  mkdirSync(ws)
  git(ws, "init", "-q", "-b", "feature/bench")
  git(ws, "commit", "-q", "--allow-empty", "-m", "init")
  return ws
}

const env = { ...(process.env as Record<string, string>), HOME: home, XDG_CONFIG_HOME: join(home, ".config"), XDG_CACHE_HOME: join(home, ".cache"), XDG_DATA_HOME: join(home, ".local", "share"), NO_COLOR: "1" }
const ws = workspace("dry")
const hello = await helloFloor(dir)
const dry = timeCommands(
  {
    "hello-world (floor)": { cmd: [hello] },
    "scc config explain --json": { cmd: [scc, "config", "explain", "--workspace", ws, "--json"], env },
    "scc start --dry-run --json": { cmd: [scc, "start", ws, "--dry-run", "--json"], env },
  },
  runs,
)
printTable(`start --dry-run, ${runs} runs each (wall time of the whole process)`, dry, "hello-world (floor)")

await using pm = await startPodman()
await pm.importImage(TEST_IMAGE)
const detachEnv = { ...env, DOCKER_HOST: pm.dockerHost }
const keepalive = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 86400 & wait $!; done"]

async function timed(cmd: string[], cmdEnv: Record<string, string>): Promise<[number, string]> {
  const t0 = performance.now()
  const r = Bun.spawnSync(cmd, { env: cmdEnv, stdout: "pipe", stderr: "pipe" })
  const ms = performance.now() - t0
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${r.exitCode}: ${r.stderr}`)
  return [ms, r.stdout.toString().trim()]
}

async function assertRunning(name: string): Promise<void> {
  const info = await pm.docker.getContainer(name).inspect()
  if (!info.State.Running) throw new Error(`${name} is not running after the command returned`)
  await pm.docker.getContainer(info.Id).remove({ force: true })
}

const samples = { floor: [] as number[], scc: [] as number[] }
const warmup = 2
for (let i = 0; i < warmup + runs; i++) {
  const [floorMs, id] = await timed(pm.cliArgs(["run", "-d", "--entrypoint", keepalive[0]!, TEST_IMAGE, ...keepalive.slice(1)]), pm.cliEnv)
  await assertRunning(id)
  const [sccMs, json] = await timed([scc, "start", workspace(`ws-${i}`), "--detach", "--json"], detachEnv)
  await assertRunning(JSON.parse(json).data.container)
  if (i >= warmup) {
    samples.floor.push(floorMs)
    samples.scc.push(sccMs)
  }
}
const rows: Record<string, Stats> = { "podman run -d (floor)": stats(samples.floor), "scc start --detach": stats(samples.scc) }
printTable(`start --detach until the container runs, ${runs} runs each (image ${TEST_IMAGE}, target <= 1.30x)`, rows, "podman run -d (floor)")
