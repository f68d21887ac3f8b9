// `bun run bench agents [runs] [agents]`: what an agent costs, against the
// real claude CLI and a scripted model server on loopback.
// - time: spawn-to-ready of the stream driver (and the pty driver), a first
//   and a warm turn, next to a bare `claude -p` round trip against the same
//   server (the floor: one process start plus one model call);
// - memory: resident set of each agent's claude process tree after a turn,
//   and what the driver adds to this process per agent;
// - the pool (scripts/bench/_agents-pool.ts): spawn-to-ready through pool.spawn
//   and POST /api/v1/agents next to the bare driver, stop, crash detection;
// - orchestration (scripts/bench/_agents-orchestrator.ts): a task through the
//   daemon on a warm agent next to a direct send, and 10 agents at once.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createAgent, startAgent } from "../../src/agent/agent"
import { isTerminalAgent, type Agent, type AgentOptions } from "../../src/agent/types"
import { CLAUDE, claudeEnv, SONNET } from "../../test/support/claude"
import { startHookServer } from "../../test/support/hook-server"
import { startModelServer } from "../../test/support/model-server"
import { benchOrchestrator } from "./_agents-orchestrator"
import { benchPool } from "./_agents-pool"
import { printTable, stats } from "./_lib"

const runs = Number(process.argv[2] ?? 15)
const agentCount = Number(process.argv[3] ?? 5)
const root = mkdtempSync(join(tmpdir(), "bench-agents-"))
const model = await startModelServer([{ match: { lastUserText: "ping" }, reply: { content: "pong", usage: { input: 100, output: 5 } } }])
const hooks = await startHookServer()
const env = claudeEnv(model)
let n = 0

function options(driver: "stream" | "pty"): AgentOptions {
  const dir = join(root, `agent-${++n}`)
  return { id: `bench-${n}`, role: "backend", driver, cwd: root, stateDir: dir, claudePath: CLAUDE, model: SONNET, env, hooks: { url: hooks.url, token: hooks.token }, warn: () => {} }
}

async function bareClaude(): Promise<number> {
  const t0 = performance.now()
  const home = join(root, `bare-${++n}`)
  const proc = Bun.spawn([CLAUDE, "-p", "ping", "--output-format", "json", "--model", SONNET], { cwd: root, env: { ...process.env, ...env, CLAUDE_CONFIG_DIR: home }, stdout: "pipe", stderr: "pipe" })
  const out = await new Response(proc.stdout).text()
  if ((await proc.exited) !== 0 || !out.includes('"pong"')) throw new Error(`bare claude failed: ${out}`)
  return performance.now() - t0
}

const rows: Record<string, number[]> = { "bare claude -p round trip (floor)": [], "stream: spawn -> ready": [], "stream: spawn -> first result": [], "stream: warm turn": [], "pty: spawn -> ready": [] }
const push = (k: string, v: number) => rows[k]!.push(v)

// Warm the file cache so the first sample does not pay for reading the 370 MB binary.
await bareClaude()
for (let i = 0; i < runs; i++) {
  push("bare claude -p round trip (floor)", await bareClaude())

  const t0 = performance.now()
  const agent = await startAgent(options("stream"))
  push("stream: spawn -> ready", performance.now() - t0)
  await agent.send("ping").done
  push("stream: spawn -> first result", performance.now() - t0)
  const t1 = performance.now()
  await agent.send("ping").done
  push("stream: warm turn", performance.now() - t1)
  await agent.stop()

  const pty = await createAgent(options("pty"))
  if (isTerminalAgent(pty)) hooks.route(pty)
  const t2 = performance.now()
  await pty.start()
  push("pty: spawn -> ready", performance.now() - t2)
  await pty.stop()
}
printTable(`agent start-up, ${runs} runs each (wall time; the model answers at once)`, Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, stats(v)])), "bare claude -p round trip (floor)")

// Memory: the process tree of each agent (claude and whatever it started, e.g. MCP servers).
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

function treeRssKb(pid: number, tree = children()): number {
  return rssKb(pid) + (tree.get(pid) ?? []).reduce((sum, child) => sum + treeRssKb(child, tree), 0)
}

Bun.gc(true)
const selfBefore = rssKb(process.pid)
const agents: Agent[] = []
for (let i = 0; i < agentCount; i++) {
  const a = await startAgent(options("stream"))
  await a.send("ping").done
  agents.push(a)
}
Bun.gc(true)
const selfAfter = rssKb(process.pid)
const tree = children()
const perAgent = agents.map((a) => treeRssKb(a.pid!, tree) / 1024)
const s = stats(perAgent)
console.log(`\nresident memory, ${agentCount} stream agents after one turn each (VmRSS of each claude process tree)`)
console.log(`  per agent:  mean ${s.mean.toFixed(1)} MiB   min ${s.min.toFixed(1)} MiB   max ${s.max.toFixed(1)} MiB   total ${perAgent.reduce((x, y) => x + y, 0).toFixed(1)} MiB`)
console.log(`  this process (driver + model server): ${(selfBefore / 1024).toFixed(1)} MiB before, ${(selfAfter / 1024).toFixed(1)} MiB with ${agentCount} agents (${((selfAfter - selfBefore) / 1024 / agentCount).toFixed(2)} MiB per agent)`)
await Promise.all(agents.map((a) => a.stop()))

await hooks.close()
await model.close()
rmSync(root, { recursive: true, force: true })

await benchPool({ runs })
await benchOrchestrator({ runs: Math.max(runs * 2, 30), agents: 10 })
