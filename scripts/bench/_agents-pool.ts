// The pool's share of `bun run bench agents`: what spawning through the pool
// and through the daemon's API costs on top of the bare driver, and how fast
// a crash is seen and repaired. A daemon runs in this process (PGlite in a
// temp dir, real HTTP and ACP listeners on free ports); its pool runs the
// real `claude` against the scripted model server. Rows alternate per round
// so drift hits all of them alike.
// - spawn -> ready: startAgent (the bare stream driver, the floor),
//   pool.spawn (role prompt, workdir, state store and agents table writes),
//   POST /api/v1/agents over HTTP (auth, route, 201 with the state-store view);
// - stop: agent.stop next to POST /api/v1/agents/:id/stop;
// - crash: SIGKILL of an idle agent's claude -> the pool's `crashed` event,
//   and -> `ready` again with agents.restart_backoff_s = 0.
// `bun scripts/bench/_agents-pool.ts [runs]` runs it alone.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import * as v from "valibot"
import { startAgent } from "../../src/agent/agent"
import { loadRole } from "../../src/agent/roles"
import { generateKey } from "../../src/config/keys"
import { CcaConfig } from "../../src/config/schema"
import { startDaemon } from "../../src/daemon/server"
import { createLogger } from "../../src/log"
import type { PoolEvent } from "../../src/pool/types"
import { CLAUDE, claudeEnv, SONNET } from "../../test/support/claude"
import { startModelServer } from "../../test/support/model-server"
import { printTable, stats } from "./_lib"

export async function benchPool({ runs }: { runs: number }): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "bench-pool-"))
  for (const [name, dir] of [["XDG_CONFIG_HOME", "config"], ["XDG_DATA_HOME", "data"], ["XDG_STATE_HOME", "state"], ["XDG_CACHE_HOME", "cache"]] as const) {
    process.env[name] = join(root, dir)
    mkdirSync(join(root, dir), { recursive: true })
  }
  const model = await startModelServer([])
  const env = claudeEnv(model)
  const { key, hash } = generateKey()
  const config = v.parse(CcaConfig, {
    daemon: { http_port: 0, acp_port: 0, api_keys: [hash], id: "bench-pool", rate_limit_key_rps: 0, rate_limit_ip_rps: 0 },
    postgres: { data_dir: join(root, "pg") },
    agents: { max_agents: 4, claude_path: CLAUDE, model: SONNET, workspace: root, restart_backoff_s: 0, circuit_crashes: 1_000_000 }, // the kills must not open the circuit
  })
  const d = await startDaemon({ config, lock: false, log: createLogger("bench-pool", { file: join(root, "daemon.log") }), pool: { env, mcpCommand: null, stateRoot: join(root, "agents") } })
  const pool = d.ctx.pool
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${d.http}${path}`, { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) })
  const next = <T extends PoolEvent["type"]>(type: T, agentId: string) =>
    new Promise<void>((resolve) => {
      const off = pool.on(type, (e) => {
        if ("agentId" in e && e.agentId === agentId) (off(), resolve())
      })
    })
  const prompt = (await loadRole("backend")).prompt
  let n = 0

  const rows: Record<string, number[]> = {
    "startAgent (bare stream driver): spawn -> ready": [],
    "pool.spawn: spawn -> ready": [],
    "POST /api/v1/agents: request -> 201": [],
    "agent.stop (bare driver)": [],
    "POST /api/v1/agents/:id/stop": [],
    "SIGKILL -> crashed event": [],
    "SIGKILL -> ready again (backoff 0)": [],
  }
  const time = async (row: string, fn: () => Promise<unknown>) => {
    const t0 = performance.now()
    await fn()
    rows[row]!.push(performance.now() - t0)
  }

  // Warm the file cache: the first start pays for reading the claude binary.
  await (await startAgent({ id: "warm", role: "backend", cwd: root, stateDir: join(root, "warm"), claudePath: CLAUDE, model: SONNET, env, warn: () => {} })).stop()
  for (let i = 0; i < runs; i++) {
    let bare: Awaited<ReturnType<typeof startAgent>> | undefined
    await time("startAgent (bare stream driver): spawn -> ready", async () => {
      bare = await startAgent({ id: `bare-${++n}`, role: "backend", cwd: root, stateDir: join(root, `bare-${n}`), claudePath: CLAUDE, model: SONNET, env, appendSystemPrompt: prompt, warn: () => {} })
    })
    await time("agent.stop (bare driver)", () => bare!.stop())

    let id = ""
    await time("pool.spawn: spawn -> ready", async () => void (id = (await pool.spawn({ role: "backend" })).id))
    const pid = pool.get(id)!.pid!
    const crashed = next("crashed", id)
    const ready = next("ready", id)
    const t0 = performance.now()
    process.kill(pid, "SIGKILL")
    await crashed
    rows["SIGKILL -> crashed event"]!.push(performance.now() - t0)
    await ready
    rows["SIGKILL -> ready again (backoff 0)"]!.push(performance.now() - t0)
    await pool.stop(id)

    let viaApi = ""
    await time("POST /api/v1/agents: request -> 201", async () => {
      const res = await api("POST", "/api/v1/agents", { role: "backend" })
      if (res.status !== 201) throw new Error(`spawn answered ${res.status}: ${await res.text()}`)
      viaApi = ((await res.json()) as { id: string }).id
    })
    await time("POST /api/v1/agents/:id/stop", async () => {
      const res = await api("POST", `/api/v1/agents/${viaApi}/stop`)
      if (res.status !== 200) throw new Error(`stop answered ${res.status}`)
    })
  }
  printTable(`agent pool, ${runs} rounds (load ${loadavg()[0]!.toFixed(2)}; wall time)`, Object.fromEntries(Object.entries(rows).map(([k, s]) => [k, stats(s)])), "startAgent (bare stream driver): spawn -> ready")
  await d.stop("bench done")
  await model.close()
  rmSync(root, { recursive: true, force: true })
}

if (import.meta.main) await benchPool({ runs: Number(process.argv[2] ?? 15) })
