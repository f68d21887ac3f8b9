// `bun run bench cluster [tasks] [agents] [workMs]` (defaults 1000 24 50): many daemons on one
// PostgreSQL and one Redis (throwaway servers: Debian's postgresql, which has
// no pgvector, and redis-server), the compiled daemon, scripted ACP agents
// (scripts/bench/_cluster-agents.ts: `cca worker`'s behaviour without Claude
// Code) given every daemon's URL.
//
// 1. Throughput with 1, 2 and 3 daemons: the same tasks (default 1,000) and
//    agents (default 24), tasks created over HTTP round-robin across the
//    daemons; 1 daemon is the baseline the others are printed next to.
// 2. Failover: 3 daemons, the same tasks, one daemon SIGKILLed once a third
//    have completed, at a moment it has tasks running. Tasks lost (acknowledged, then missing or failed), run
//    twice (an agent accepted the same task twice), stuck (not finished 60 s
//    after the others), the time from the kill until the dead daemon is
//    adopted (next to the lease it had), and until the last of its tasks runs
//    elsewhere. docs/figures/cluster-failover.svg: completions over time.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import postgres from "postgres"
import { generateKey } from "../../src/config/keys"
import { createDatabase, startPostgres, type PostgresServer } from "../../test/support/postgres"
import { startRedis, type RedisServer } from "../../test/support/redis"
import { startFleet } from "./_cluster-agents"

const TASKS = Number(process.argv[2] ?? 1000)
const AGENTS = Number(process.argv[3] ?? 24)
const WORK_MS = Number(process.argv[4] ?? 50)
const LEASE_S = 3
const RENEW_S = 0.5
const GRACE_S = 3
const root = join(import.meta.dir, "..", "..")
const cca = join(root, "dist", "cca")
if (!(await Bun.file(cca).exists())) {
  console.error(`${cca} is missing: bun run build`)
  process.exit(2)
}

type Daemon = { id: string; proc: Bun.Subprocess<"ignore", "pipe", "pipe">; http: string; acp: string }

const { key, hash } = generateKey()
const scratch = mkdtempSync(join(tmpdir(), "bench-cluster-"))

async function readLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader()
  let out = ""
  while (!out.includes("\n")) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`exited before printing a line: ${out}`)
    out += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  void stream.pipeTo(new WritableStream()).catch(() => {})
  return out.slice(0, out.indexOf("\n"))
}

async function startDaemon(id: string, pgUrl: string, redisUrl: string): Promise<Daemon> {
  const home = join(scratch, id)
  for (const d of [".config", ".local/share", ".cache"]) mkdirSync(join(home, d), { recursive: true })
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local/share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    CCA__AGENTS__MAX_AGENTS: "0",
    CCA__POSTGRES__URL: pgUrl,
    CCA__POSTGRES__POOL: "4",
    CCA__REDIS__URL: redisUrl,
    CCA__DAEMON__ID: id,
    CCA__DAEMON__API_KEYS: JSON.stringify([hash]),
    CCA__DAEMON__RATE_LIMIT_KEY_RPS: "0",
    CCA__DAEMON__RATE_LIMIT_IP_RPS: "0",
    CCA__CLUSTER__LEASE_S: String(LEASE_S),
    CCA__CLUSTER__RENEW_S: String(RENEW_S),
    CCA__CLUSTER__WORKER_GRACE_S: String(GRACE_S),
  }
  const proc = Bun.spawn([cca, "daemon", "--port", "0", "--acp-port", "0"], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" })
  void proc.stderr.pipeTo(new WritableStream()).catch(() => {})
  const ready = JSON.parse(await readLine(proc.stdout)) as { http: string; acp: string }
  return { id, proc, http: ready.http, acp: ready.acp }
}

async function stopAll(daemons: Daemon[]): Promise<void> {
  for (const d of daemons) d.proc.kill("SIGTERM")
  await Promise.all(daemons.map((d) => d.proc.exited))
}

/** Create `n` tasks round-robin over the daemons still up, `concurrency` at a time; a refused connection moves on to the next daemon (as a load balancer would). */
async function createTasks(daemons: Daemon[], n: number, alive: () => Daemon[], concurrency = 16): Promise<string[]> {
  const ids: string[] = []
  let next = 0
  async function one(i: number): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const up = alive()
      const d = up[(i + attempt) % up.length]!
      try {
        const res = await fetch(`${d.http}/api/v1/tasks`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ description: `bench task ${i}`, role: "bench" }),
        })
        if (res.status === 202) return void ids.push(((await res.json()) as { id: string }).id)
      } catch {}
    }
    throw new Error(`task ${i} could not be created on any daemon`)
  }
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await one(next++)
    }),
  )
  void daemons
  return ids
}

type Counts = Record<string, number>

async function counts(sql: postgres.Sql): Promise<Counts> {
  const rows = await sql<{ status: string; n: number }[]>`SELECT status, count(*)::int AS n FROM tasks GROUP BY status`
  return Object.fromEntries(rows.map((r) => [r.status, r.n]))
}

async function waitDone(sql: postgres.Sql, total: number, timeoutMs: number, onTick?: (c: Counts, t: number) => void): Promise<{ ms: number; counts: Counts }> {
  const t0 = performance.now()
  for (;;) {
    const c = await counts(sql)
    onTick?.(c, performance.now() - t0)
    const finished = (c.completed ?? 0) + (c.failed ?? 0) + (c.cancelled ?? 0)
    if (finished >= total || performance.now() - t0 > timeoutMs) return { ms: performance.now() - t0, counts: c }
    await Bun.sleep(100)
  }
}

async function cluster(pg: PostgresServer, redis: RedisServer, name: string, n: number) {
  const url = await createDatabase(pg, name)
  const daemons: Daemon[] = []
  for (let i = 0; i < n; i++) daemons.push(await startDaemon(`${name}-d${i + 1}`, url, redis.url))
  const fleet = await startFleet({ urls: daemons.map((d) => d.acp), apiKey: key, count: AGENTS, role: "bench", workMs: WORK_MS, prefix: `${name}-a` })
  const sql = postgres(url, { max: 2, onnotice: () => {} })
  return { url, daemons, fleet, sql }
}

async function throughput(pg: PostgresServer, redis: RedisServer, n: number) {
  const c = await cluster(pg, redis, `tput${n}`, n)
  try {
    const t0 = performance.now()
    const ids = await createTasks(c.daemons, TASKS, () => c.daemons)
    const done = await waitDone(c.sql, ids.length, 120_000)
    const ms = performance.now() - t0
    const twice = [...c.fleet.accepted.values()].filter((x) => x > 1).length
    return { daemons: n, tasks: ids.length, ms, perS: ids.length / (ms / 1000), completed: done.counts.completed ?? 0, twice }
  } finally {
    await c.fleet.close()
    await c.sql.end()
    await stopAll(c.daemons)
  }
}

async function failover(pg: PostgresServer, redis: RedisServer) {
  const c = await cluster(pg, redis, "failover", 3)
  const victim = c.daemons[1]!
  let killedAt = 0
  const alive = () => c.daemons.filter((d) => d !== victim || killedAt === 0)
  const timeline: { t: number; completed: number }[] = []
  try {
    const t0 = performance.now()
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const k = await counts(c.sql)
        timeline.push({ t: performance.now() - t0, completed: k.completed ?? 0 })
        await Bun.sleep(100)
      }
    })()
    const creating = createTasks(c.daemons, TASKS, alive)
    // Kill once a third are done, at a moment the victim has tasks running (mid-task).
    let runningOnVictim: string[] = []
    for (;;) {
      const k = await counts(c.sql)
      if ((k.completed ?? 0) >= TASKS / 3) {
        runningOnVictim = (await c.sql<{ id: string }[]>`SELECT id FROM tasks WHERE status = 'running' AND owner_daemon = ${victim.id}`).map((r) => r.id)
        if (runningOnVictim.length >= 2 || (k.completed ?? 0) >= (TASKS * 2) / 3) break
      }
      await Bun.sleep(10)
    }
    victim.proc.kill("SIGKILL")
    killedAt = performance.now()
    await victim.proc.exited
    const ids = await creating
    // When the survivors adopt it, and when its last running task is running (or done) elsewhere.
    let adoptedMs = NaN
    let takenMs = NaN
    const watch = (async () => {
      for (;;) {
        const [row] = await c.sql<{ adopted: boolean }[]>`SELECT adopted_at IS NOT NULL AS adopted FROM daemons WHERE id = ${victim.id}`
        if (Number.isNaN(adoptedMs) && row?.adopted) adoptedMs = performance.now() - killedAt
        const [left] = await c.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM tasks WHERE id = ANY(${runningOnVictim}::uuid[]) AND (status = 'pending' OR (status = 'running' AND owner_daemon = ${victim.id}))`
        if (Number.isNaN(takenMs) && left!.n === 0) takenMs = performance.now() - killedAt
        if (!Number.isNaN(adoptedMs) && !Number.isNaN(takenMs)) return
        if (performance.now() - killedAt > 60_000) return
        await Bun.sleep(50)
      }
    })()
    const done = await waitDone(c.sql, ids.length, 90_000)
    await watch
    sampling = false
    await sampler
    const ms = performance.now() - t0
    const rows = await c.sql<{ id: string; status: string }[]>`SELECT id, status FROM tasks`
    const byId = new Map(rows.map((r) => [r.id, r.status]))
    const lost = ids.filter((id) => !byId.has(id) || byId.get(id) === "failed").length
    const stuck = ids.filter((id) => byId.get(id) === "pending" || byId.get(id) === "running").length
    const twice = [...c.fleet.accepted.entries()].filter(([, x]) => x > 1)
    const [handovers] = await c.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM task_events WHERE type = 'claimed' AND (data->>'handover')::boolean`
    const perOwner = Object.fromEntries((await c.sql<{ d: string; n: number }[]>`SELECT owner_daemon AS d, count(*)::int AS n FROM tasks WHERE status = 'completed' GROUP BY owner_daemon ORDER BY 1`).map((r) => [r.d, r.n]))
    return { tasks: ids.length, ms, lost, stuck, twice: twice.length, runningOnVictim: runningOnVictim.length, adoptedMs, takenMs, handovers: handovers!.n, counts: done.counts, perOwner, timeline, killedAtS: (killedAt - t0) / 1000, adoptedAtS: (killedAt - t0 + adoptedMs) / 1000 }
  } finally {
    await c.fleet.close()
    await c.sql.end()
    await stopAll(c.daemons.filter((d) => d !== victim))
  }
}

function svg(timeline: { t: number; completed: number }[], killedAtS: number, adoptedAtS: number, total: number): string {
  const W = 640
  const H = 320
  const P = 40
  const maxT = Math.max(...timeline.map((p) => p.t)) / 1000
  const x = (s: number) => P + ((W - 2 * P) * s) / maxT
  const y = (n: number) => H - P - ((H - 2 * P) * n) / total
  const path = timeline.map((p, i) => `${i ? "L" : "M"}${x(p.t / 1000).toFixed(1)},${y(p.completed).toFixed(1)}`).join(" ")
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<line x1="${P}" y1="${H - P}" x2="${W - P}" y2="${H - P}" stroke="#444"/><line x1="${P}" y1="${P}" x2="${P}" y2="${H - P}" stroke="#444"/>
<text x="${W / 2}" y="${H - 8}" text-anchor="middle">seconds</text><text x="${P}" y="${P - 10}">tasks completed (of ${total})</text>
<text x="${W - P}" y="${H - P + 16}" text-anchor="end">${maxT.toFixed(1)}</text><text x="${P - 4}" y="${P + 4}" text-anchor="end">${total}</text>
<line x1="${x(killedAtS).toFixed(1)}" y1="${P}" x2="${x(killedAtS).toFixed(1)}" y2="${H - P}" stroke="#c33" stroke-dasharray="4 3"/>
<text x="${(x(killedAtS) - 4).toFixed(1)}" y="${P + 14}" fill="#c33" text-anchor="end">daemon 2 SIGKILLed</text>
<line x1="${x(adoptedAtS).toFixed(1)}" y1="${P}" x2="${x(adoptedAtS).toFixed(1)}" y2="${H - P}" stroke="#393" stroke-dasharray="4 3"/>
<text x="${(x(adoptedAtS) - 4).toFixed(1)}" y="${P + 30}" fill="#393" text-anchor="end">daemon 2 adopted (its lease ran out)</text>
<path d="${path}" fill="none" stroke="#2266cc" stroke-width="2"/>
</svg>
`
}

const pg = await startPostgres()
const redis = await startRedis()
try {
  console.log(`bench cluster: ${TASKS} tasks, ${AGENTS} scripted agents (${WORK_MS} ms of work each), lease ${LEASE_S} s (renewed every ${RENEW_S} s), worker grace ${GRACE_S} s; ${pg.version}, redis-server; load ${loadavg()[0]!.toFixed(2)} on 2 cores (shared: figures are noisy)`)
  const rows = []
  for (const n of [1, 2, 3]) rows.push(await throughput(pg, redis, n))
  const base = rows[0]!.perS
  console.log("\nthroughput (tasks created over HTTP round-robin, until the last completes)")
  console.log("daemons  tasks  completed  seconds  tasks/s  vs 1 daemon  run twice")
  for (const r of rows) console.log(`${String(r.daemons).padStart(7)}  ${String(r.tasks).padStart(5)}  ${String(r.completed).padStart(9)}  ${(r.ms / 1000).toFixed(2).padStart(7)}  ${r.perS.toFixed(1).padStart(7)}  ${(r.perS / base).toFixed(2).padStart(10)}x  ${String(r.twice).padStart(9)}`)

  const f = await failover(pg, redis)
  console.log(`\nfailover: 3 daemons, daemon 2 SIGKILLed at ${f.killedAtS.toFixed(2)} s with ${f.runningOnVictim} task(s) running on it`)
  console.log(`  tasks lost         ${f.lost}   (goal 0)`)
  console.log(`  tasks run twice    ${f.twice}   (goal 0)`)
  console.log(`  tasks stuck        ${f.stuck}   (goal 0)`)
  console.log(`  adopted after      ${(f.adoptedMs / 1000).toFixed(2)} s   (its lease: ${LEASE_S} s, renewed every ${RENEW_S} s: ${LEASE_S - RENEW_S}-${LEASE_S + RENEW_S} s expected)`)
  console.log(`  its tasks elsewhere after ${(f.takenMs / 1000).toFixed(2)} s   (${f.handovers} handed over by failing-over agents without a requeue)`)
  console.log(`  all ${f.tasks} done in ${(f.ms / 1000).toFixed(2)} s: ${JSON.stringify(f.counts)}; completed by daemon: ${JSON.stringify(f.perOwner)}`)
  const out = join(root, "docs", "figures")
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, "cluster-failover.svg"), svg(f.timeline, f.killedAtS, f.adoptedAtS, f.tasks))
  console.log(`  completions over time: docs/figures/cluster-failover.svg`)
  if (f.lost || f.twice || f.stuck) process.exitCode = 1
} finally {
  await redis.close()
  await pg.close()
  rmSync(scratch, { recursive: true, force: true })
}
