// The orchestrator's share of `bun run bench agents`: what running a task
// through the daemon costs on top of the agent itself. A daemon runs in this
// process (PGlite in a temp dir, real HTTP and ACP listeners on free ports)
// with a pool of real `claude` processes against the scripted model server.
// - overhead on a warm agent: POST /api/v1/tasks, then its event stream until
//   `completed`, minus the scripted model's time as the server records it;
//   next to a direct `pool.send` on the same warm agent (the floor: Claude
//   Code's own turn), alternating so drift hits both;
// - 10 agents at once: 10 tasks submitted together per round, latency per
//   task and throughput, next to 10 direct sends at once on the same agents.
// `bun scripts/bench/_agents-orchestrator.ts [runs] [agents]` runs it alone.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import * as v from "valibot"
import { generateKey } from "../../src/config/keys"
import { CcaConfig } from "../../src/config/schema"
import { startDaemon, type RunningDaemon } from "../../src/daemon/server"
import { createLogger } from "../../src/log"
import { CLAUDE, claudeEnv, SONNET } from "../../test/support/claude"
import { startModelServer, type ModelServer } from "../../test/support/model-server"
import { fmt, printTable, stats, type Stats } from "./_lib"

export type OrchestratorFigures = { overhead: Stats; floor: Stats; targetMs: number }

type Daemon = { d: RunningDaemon; key: string; model: ModelServer; root: string; close(): Promise<void> }

async function daemon(agents: number): Promise<Daemon> {
  const root = mkdtempSync(join(tmpdir(), "bench-orch-"))
  // The daemon reads its keys file and writes its log under XDG dirs: keep them out of the user's.
  for (const [name, dir] of [["XDG_CONFIG_HOME", "config"], ["XDG_DATA_HOME", "data"], ["XDG_STATE_HOME", "state"], ["XDG_CACHE_HOME", "cache"]] as const) {
    process.env[name] = join(root, dir)
    mkdirSync(join(root, dir), { recursive: true })
  }
  const model = await startModelServer([{ match: { lastUserText: /^ping \d+$/ }, reply: { content: "pong", usage: { input: 100, output: 5 } } }])
  const { key, hash } = generateKey()
  const config = v.parse(CcaConfig, {
    daemon: { http_port: 0, acp_port: 0, api_keys: [hash], id: "bench-orchestrator", rate_limit_key_rps: 0, rate_limit_ip_rps: 0 },
    postgres: { data_dir: join(root, "pg") },
    agents: { max_agents: agents, claude_path: CLAUDE, model: SONNET, workspace: root },
  })
  const log = createLogger("bench-daemon", { file: join(root, "daemon.log") })
  const d = await startDaemon({ config, lock: false, log, pool: { env: claudeEnv(model), mcpCommand: null, stateRoot: join(root, "agents") } })
  return {
    d,
    key,
    model,
    root,
    async close() {
      await d.stop("bench done")
      await model.close()
      rmSync(root, { recursive: true, force: true })
    },
  }
}

let seq = 0
const prompt = () => `ping ${++seq}`

/** The scripted model's time for the turn that answered `text`. */
function modelMs(model: ModelServer, text: string): number {
  return model.requests.filter((r) => r.conversation?.lastUserText === text).reduce((sum, r) => sum + (r.modelMs ?? 0), 0)
}

/** Submit over HTTP and follow the event stream until the task completes; returns the wall time in ms. */
async function viaTask(x: Daemon, text: string): Promise<number> {
  const headers = { authorization: `Bearer ${x.key}`, "content-type": "application/json" }
  const t0 = performance.now()
  const res = await fetch(`${x.d.http}/api/v1/tasks`, { method: "POST", headers, body: JSON.stringify({ description: text, role: "backend" }) })
  const { id } = (await res.json()) as { id: string }
  const stream = await fetch(`${x.d.http}/api/v1/tasks/${id}/events`, { headers })
  const reader = stream.body!.getReader()
  const decoder = new TextDecoder()
  let seen = ""
  for (;;) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`task ${id} ended without completing: ${seen}`)
    seen += decoder.decode(value, { stream: true })
    if (seen.includes("event: completed\n")) break
    if (seen.includes("event: failed\n") || seen.includes("event: cancelled\n")) throw new Error(`task ${id} did not complete: ${seen}`)
  }
  const ms = performance.now() - t0
  await reader.cancel()
  return ms
}

async function direct(x: Daemon, agentId: string, text: string): Promise<number> {
  const t0 = performance.now()
  const r = await x.d.ctx.pool.send(agentId, text)
  if (r.text !== "pong") throw new Error(`unexpected answer ${r.text}`)
  return performance.now() - t0
}

export async function benchOrchestrator(opts: { runs?: number; agents?: number; rounds?: number } = {}): Promise<OrchestratorFigures> {
  const runs = opts.runs ?? 30
  const agents = opts.agents ?? 10
  const rounds = opts.rounds ?? 5
  const x = await daemon(agents)
  try {
    const pool = x.d.ctx.pool
    const first = await pool.spawn({ role: "backend" })
    for (let i = 0; i < 3; i++) {
      await direct(x, first.id, prompt())
      await viaTask(x, prompt())
    }
    const rows: Record<string, number[]> = {
      "direct pool.send on the warm agent (floor)": [],
      "task: HTTP submit -> completed event": [],
      "task minus model time (orchestration + Claude Code)": [],
      "task minus direct send, paired (orchestration only)": [],
    }
    for (let i = 0; i < runs; i++) {
      const a = prompt()
      const floor = direct(x, first.id, a)
      const f = await floor
      const b = prompt()
      const t = await viaTask(x, b)
      rows["direct pool.send on the warm agent (floor)"]!.push(f - modelMs(x.model, a))
      rows["task: HTTP submit -> completed event"]!.push(t)
      rows["task minus model time (orchestration + Claude Code)"]!.push(t - modelMs(x.model, b))
      rows["task minus direct send, paired (orchestration only)"]!.push(t - f)
    }
    const table = Object.fromEntries(Object.entries(rows).map(([k, s]) => [k, stats(s)]))
    printTable(`orchestration overhead per task on one warm stream agent, ${runs} runs (model time subtracted where noted; load ${loadavg()[0]!.toFixed(2)})`, table, "direct pool.send on the warm agent (floor)")

    // 10 agents at once
    const more = await Promise.all(Array.from({ length: agents - 1 }, () => pool.spawn({ role: "backend" })))
    const ids = [first.id, ...more.map((a) => a.id)]
    await Promise.all(ids.map((id) => direct(x, id, prompt())))
    const together: Record<string, number[]> = { [`${agents} direct sends at once (floor)`]: [], [`${agents} tasks at once via HTTP`]: [] }
    const wall = { direct: 0, task: 0 }
    for (let r = 0; r < rounds; r++) {
      let t0 = performance.now()
      together[`${agents} direct sends at once (floor)`]!.push(...(await Promise.all(ids.map((id) => direct(x, id, prompt())))))
      wall.direct += performance.now() - t0
      t0 = performance.now()
      together[`${agents} tasks at once via HTTP`]!.push(...(await Promise.all(ids.map(() => viaTask(x, prompt())))))
      wall.task += performance.now() - t0
    }
    printTable(`${agents} agents running at once: latency per task, ${rounds} rounds of ${agents}`, Object.fromEntries(Object.entries(together).map(([k, s]) => [k, stats(s)])), `${agents} direct sends at once (floor)`)
    const n = rounds * agents
    console.log(`  throughput: tasks ${(n / (wall.task / 1000)).toFixed(1)}/s, direct sends ${(n / (wall.direct / 1000)).toFixed(1)}/s (floor)`)
    const overhead = table["task minus model time (orchestration + Claude Code)"]!
    const own = table["task minus direct send, paired (orchestration only)"]!
    console.log(`  target: orchestration overhead p50 under 30 ms: task minus model time ${fmt(overhead.p50)}, of which Claude Code's own turn (floor) ${fmt(table["direct pool.send on the warm agent (floor)"]!.p50)}; the daemon's share ${fmt(own.p50)}`)
    return { overhead: own, floor: table["direct pool.send on the warm agent (floor)"]!, targetMs: 30 }
  } finally {
    await x.close()
  }
}

if (import.meta.main) await benchOrchestrator({ runs: Number(process.argv[2] ?? 30), agents: Number(process.argv[3] ?? 10) })
