// `bun run bench sandbox [runs] [agents]`: what a governed container costs a
// daemon agent (agents.sandbox = "docker"), on a real Podman with an image
// built from host files (busybox + glibc; claude mounted, as in the tests):
// - spawn-to-ready through pool.spawn of a sandboxed stream agent, next to a
//   local one and next to a bare `podman run --rm` of the same image (the
//   floor: one container start and exit);
// - resident memory per agent: the claude process tree, local and inside a
//   container, plus the container's conmon (Podman's per-container monitor).
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { printTable, stats } from "./_lib"

const runs = Number(process.argv[2] ?? 10)
const agentCount = Number(process.argv[3] ?? 3)
const root = mkdtempSync(join(tmpdir(), "bench-sandbox-"))
// Before any src module reads a path: usage stats and agent homes go to this run's own directory.
for (const [k, d] of [["HOME", "home"], ["XDG_CONFIG_HOME", "config"], ["XDG_CACHE_HOME", "cache"], ["XDG_DATA_HOME", "data"]] as const) process.env[k] = join(root, d)

const v = await import("valibot")
const { CcaConfig } = await import("../../src/config/schema")
const { poolOptions } = await import("../../src/pool/options")
const { createPool } = await import("../../src/pool/pool")
const { createLogger } = await import("../../src/log")
const { CLAUDE, claudeEnv, SONNET } = await import("../../test/support/claude")
const { startModelServer } = await import("../../test/support/model-server")
const { startPodman } = await import("../../test/support/podman")
const { glibcFiles } = await import("../../test/sandbox/fixtures")

const IMAGE = "localhost/cca-agent:latest"
const pm = await startPodman()
await pm.importImage(IMAGE, await glibcFiles(realpathSync(CLAUDE)))
const model = await startModelServer([{ match: { lastUserText: "ping" }, reply: { content: "pong", usage: { input: 100, output: 5 } } }])
const orgFile = join(root, "org.json")
writeFileSync(orgFile, JSON.stringify({ schema_version: "1.0", organization: { name: "Bench" }, profiles: { bench: { sandbox: { image: IMAGE } } } }))
const workspace = join(root, "ws")
Bun.spawnSync(["mkdir", "-p", workspace])

function pool(sandbox: "none" | "docker") {
  const config = v.parse(CcaConfig, { agents: { claude_path: CLAUDE, model: SONNET, workspace, max_agents: 50, sandbox, team: "bench", org: orgFile, sandbox_mount_claude: true } })
  return createPool(poolOptions(config, { stateRoot: join(root, "agents"), env: claudeEnv(model), mcpCommand: null, owner: "bench", engine: async () => pm.docker, log: createLogger("bench", { file: join(root, "pool.log") }) }))
}

function bareRun(): number {
  const t0 = performance.now()
  const r = Bun.spawnSync(pm.cliArgs(["run", "--rm", "--network", "host", IMAGE, "/bin/true"]), { env: pm.cliEnv, stdout: "ignore", stderr: "pipe" })
  if (r.exitCode !== 0) throw new Error(`podman run failed: ${r.stderr}`)
  return performance.now() - t0
}

const local = pool("none")
const boxed = pool("docker")
const rows: Record<string, number[]> = { "bare podman run --rm (floor)": [], "local agent: spawn -> ready": [], "sandboxed agent: spawn -> ready": [], "sandboxed agent: stop (container removed)": [] }
let n = 0
bareRun() // warm the image and the file cache
await boxed.stop((await boxed.spawn({ role: "backend", id: "warm" })).id)
for (let i = 0; i < runs; i++) {
  rows["bare podman run --rm (floor)"]!.push(bareRun())
  let t0 = performance.now()
  const a = await local.spawn({ role: "backend", id: `local-${++n}` })
  rows["local agent: spawn -> ready"]!.push(performance.now() - t0)
  await local.stop(a.id)
  t0 = performance.now()
  const b = await boxed.spawn({ role: "backend", id: `boxed-${n}` })
  rows["sandboxed agent: spawn -> ready"]!.push(performance.now() - t0)
  t0 = performance.now()
  await boxed.stop(b.id)
  rows["sandboxed agent: stop (container removed)"]!.push(performance.now() - t0)
}
printTable(`spawn-to-ready, ${runs} runs each (wall time; the model answers at once; 2 shared cores: noisy)`, Object.fromEntries(Object.entries(rows).map(([k, s]) => [k, stats(s)])), "bare podman run --rm (floor)")

// Memory: each agent's process tree after one turn (and, sandboxed, its conmon).
function children(): Map<number, number[]> {
  const map = new Map<number, number[]>()
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8")
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
      map.set(ppid, [...(map.get(ppid) ?? []), Number(name)])
    } catch {
      // the process ended while we looked
    }
  }
  return map
}
function rssKb(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))
    return line ? Number(line.replace(/\D+/g, "")) : 0
  } catch {
    return 0
  }
}
const treeRssKb = (pid: number, tree: Map<number, number[]>): number => rssKb(pid) + (tree.get(pid) ?? []).reduce((sum, c) => sum + treeRssKb(c, tree), 0)

const locals = [], boxes = []
for (let i = 0; i < agentCount; i++) {
  locals.push(await local.spawn({ role: "backend", id: `mem-local-${i}` }))
  boxes.push(await boxed.spawn({ role: "backend", id: `mem-boxed-${i}` }))
}
for (const a of [...locals, ...boxes]) await (a.container ? boxed : local).run(a.id, { taskId: null, prompt: "ping" })
const tree = children()
const localMiB = locals.map((a) => treeRssKb(a.pid!, tree) / 1024)
/** Podman's monitor process of a container: a conmon whose command line names the container's id. */
function conmonPid(id: string): number | undefined {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8")
      if (cmd.startsWith("/usr/bin/conmon") || cmd.includes("conmon\0")) if (cmd.includes(id)) return Number(name)
    } catch {
      // gone
    }
  }
  return undefined
}
const boxedMiB: number[] = []
const conmonMiB: number[] = []
for (const b of boxes) {
  const info = (await pm.docker.getContainer(b.container!).inspect()) as { Id: string; State: { Pid: number } }
  boxedMiB.push(treeRssKb(info.State.Pid, tree) / 1024)
  const conmon = conmonPid(info.Id)
  if (conmon === undefined) throw new Error(`no conmon found for ${b.container}`)
  conmonMiB.push(rssKb(conmon) / 1024)
}
const line = (label: string, xs: number[]) => {
  const s = stats(xs)
  console.log(`  ${label.padEnd(34)} mean ${s.mean.toFixed(1)} MiB   min ${s.min.toFixed(1)}   max ${s.max.toFixed(1)}`)
}
console.log(`\nresident memory per agent, ${agentCount} of each after one turn (VmRSS)`)
line("local: claude process tree", localMiB)
line("sandboxed: claude tree in container", boxedMiB)
line("sandboxed: conmon (per container)", conmonMiB)
const extra = stats(boxedMiB.map((b, i) => b + conmonMiB[i]! - stats(localMiB).mean))
console.log(`  sandboxed minus local (mean):      ${extra.mean.toFixed(1)} MiB per agent`)

await local.close()
await boxed.close()
await model.close()
await pm[Symbol.asyncDispose]()
rmSync(root, { recursive: true, force: true })
