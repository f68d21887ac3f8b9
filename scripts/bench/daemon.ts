// `bun run bench daemon [seconds] [rounds]`: the daemon's figures, each next
// to a floor measured in the same run.
//
// HTTP: GET /api/v1/status on the compiled daemon (auth, rate limiter with
// limits that never bind, metrics: the whole path) next to a bare Bun.serve in
// its own process answering the same JSON. Load comes from wrk (apt-get
// install -y wrk), a C load generator, so the server gets as much of the two
// cores as it can: -t1 -c32, daemon and floor alternating, median of the
// rounds. Targets: throughput at least 0.6x the floor's; p99 under 5 ms at half
// the daemon's peak rate. For that rate wrk's Lua delay() paces each of N
// connections (1 ms after each answer), N calibrated by short trials.
//
// Then the store's section (scripts/bench/_daemon-store.ts: task create +
// fetch on PGlite) and ACP's (scripts/bench/_daemon-acp.ts, run against this
// daemon's ACP port: round trip and broadcast with 200 clients).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { availableParallelism, loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { benchDaemonAcp } from "./_daemon-acp"
import { benchDaemonStore } from "./_daemon-store"

if (process.argv[2] === "--floor") {
  const body = await Bun.file(process.argv[3]!).text()
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(body, { headers: { "content-type": "application/json" } }) })
  console.log(server.port)
  await new Promise(() => {})
}

const seconds = Number(process.argv[2] ?? 5)
const rounds = Number(process.argv[3] ?? 3)
const root = join(import.meta.dir, "..", "..")
const cca = join(root, "dist", "cca")

if (Bun.spawnSync(["sh", "-c", "command -v wrk"]).exitCode !== 0) {
  console.error("wrk is not installed: apt-get install -y wrk")
  process.exit(2)
}
if (!(await Bun.file(cca).exists())) {
  console.error(`${cca} is missing: bun run build`)
  process.exit(2)
}

type Wrk = { rps: number; p50: number; p99: number }

async function wrk(url: string, opts: { key?: string; connections?: number; script?: string; seconds?: number } = {}): Promise<Wrk> {
  const args = ["wrk", "-t1", `-c${opts.connections ?? 32}`, `-d${opts.seconds ?? seconds}s`, "--latency", ...(opts.key ? ["-H", `Authorization: Bearer ${opts.key}`] : []), ...(opts.script ? ["-s", opts.script] : []), url]
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" })
  const out = await new Response(proc.stdout).text()
  if ((await proc.exited) !== 0) throw new Error(`wrk failed: ${await new Response(proc.stderr).text()}`)
  if (/Non-2xx/.test(out)) throw new Error(`wrk saw errors from ${url}:\n${out}`)
  const ms = (label: string) => {
    const m = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out)
    if (!m) throw new Error(`no ${label}% in wrk output:\n${out}`)
    return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1)
  }
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]), p50: ms("50"), p99: ms("99") }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const summarise = (runs: Wrk[]): Wrk => ({ rps: median(runs.map((r) => r.rps)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)) })

async function readLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader()
  let out = ""
  while (!out.includes("\n")) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`exited before printing a line: ${out}`)
    out += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  return out.slice(0, out.indexOf("\n"))
}

const dir = mkdtempSync(join(tmpdir(), "bench-daemon-"))
const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  HOME: dir,
  XDG_CONFIG_HOME: join(dir, ".config"),
  XDG_DATA_HOME: join(dir, ".local", "share"),
  XDG_CACHE_HOME: join(dir, ".cache"),
  // The limiter runs (its cost is measured) with limits this load never reaches.
  CCA__DAEMON__RATE_LIMIT_KEY_RPS: "1000000000",
  CCA__DAEMON__RATE_LIMIT_KEY_BURST: "1000000000",
  CCA__DAEMON__RATE_LIMIT_IP_RPS: "1000000000",
  CCA__DAEMON__RATE_LIMIT_IP_BURST: "1000000000",
}
const created = Bun.spawnSync([cca, "keys", "create", "--json"], { env, stdout: "pipe", stderr: "pipe" })
const key = JSON.parse(created.stdout.toString()).data.key as string
const daemon = Bun.spawn([cca, "daemon", "--port", "0", "--acp-port", "0"], { env, stdout: "pipe", stderr: "inherit" })
let floor: Bun.Subprocess | undefined
try {
  const ready = JSON.parse(await readLine(daemon.stdout)) as { http: string; acp: string }
  const statusUrl = `${ready.http}/api/v1/status`
  const body = await (await fetch(statusUrl, { headers: { authorization: `Bearer ${key}` } })).text()
  const bodyFile = join(dir, "status.json")
  writeFileSync(bodyFile, body)
  floor = Bun.spawn([process.execPath, import.meta.path, "--floor", bodyFile], { stdout: "pipe", stderr: "inherit" })
  const floorUrl = `http://127.0.0.1:${await readLine(floor.stdout as ReadableStream<Uint8Array>)}/api/v1/status`

  console.log(`GET /api/v1/status (${body.length} bytes of JSON): wrk -t1 -c32 -d${seconds}s, ${rounds} rounds alternating, medians`)
  await wrk(statusUrl, { key }) // warm-up (JIT, connection pools)
  await wrk(floorUrl)
  const peaks = { floor: [] as Wrk[], daemon: [] as Wrk[] }
  for (let i = 0; i < rounds; i++) {
    peaks.floor.push(await wrk(floorUrl))
    peaks.daemon.push(await wrk(statusUrl, { key }))
  }
  const peak = { floor: summarise(peaks.floor), daemon: summarise(peaks.daemon) }

  // Half the daemon's peak: N connections, each waiting D ms after every answer;
  // N calibrated with a short trial so the achieved rate lands near the target.
  const target = peak.daemon.rps / 2
  const delayMs = 1
  const script = join(dir, "pace.lua")
  writeFileSync(script, `function delay()\n  return ${delayMs}\nend\n`)
  let connections = Math.max(1, Math.round(target * ((delayMs + peak.daemon.p50) / 1000)))
  for (let i = 0; i < 2; i++) {
    const trial = await wrk(statusUrl, { key, connections, script, seconds: 2 })
    connections = Math.max(1, Math.min(1000, Math.round(connections * (target / trial.rps))))
  }
  const half = { floor: [] as Wrk[], daemon: [] as Wrk[] }
  for (let i = 0; i < rounds; i++) {
    half.floor.push(await wrk(floorUrl, { connections, script }))
    half.daemon.push(await wrk(statusUrl, { key, connections, script }))
  }
  const paced = { floor: summarise(half.floor), daemon: summarise(half.daemon) }

  const row = (name: string, w: Wrk, extra = "") => `${name.padEnd(38)} ${w.rps.toFixed(0).padStart(9)} ${w.p50.toFixed(2).padStart(8)} ${w.p99.toFixed(2).padStart(8)}  ${extra}`
  console.log(`\n${"".padEnd(38)} ${"req/s".padStart(9)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)}`)
  console.log(row("bare Bun.serve, same JSON (floor)", peak.floor))
  const ratio = peak.daemon.rps / peak.floor.rps
  console.log(row("cca daemon GET /api/v1/status", peak.daemon, `${ratio.toFixed(2)}x floor (target >= 0.60x): ${ratio >= 0.6 ? "met" : "NOT met"}`))
  console.log(`\nat half the daemon's peak (target ${Math.round(target)} req/s: ${connections} connections, each ${delayMs} ms between answer and next request)`)
  console.log(row("bare Bun.serve, same JSON (floor)", paced.floor))
  console.log(row("cca daemon GET /api/v1/status", paced.daemon, `p99 ${paced.daemon.p99.toFixed(2)} ms (target < 5 ms): ${paced.daemon.p99 < 5 ? "met" : "NOT met"}`))
  console.log(`rounds (req/s): floor ${peaks.floor.map((r) => r.rps.toFixed(0)).join(", ")}; daemon ${peaks.daemon.map((r) => r.rps.toFixed(0)).join(", ")}`)
  console.log(`load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores (other work on the machine moves every figure)`)

  const store = await benchDaemonStore({})
  console.log(`store: first open ${store.firstOpenMs.toFixed(0)} ms, reopen ${store.reopenMs.toFixed(0)} ms; task create+fetch p99 ${store.createFetchP99Ms.toFixed(2)} ms (target < ${store.targetMs} ms): ${store.createFetchP99Ms < store.targetMs ? "met" : "NOT met"}`)

  const acp = await benchDaemonAcp({ target: { url: ready.acp, apiKey: key } })
  console.log(`acp (this daemon): round trip p99 ${acp.roundTripP99Ms.toFixed(2)} ms (target < ${acp.targets.roundTripP99Ms} ms): ${acp.roundTripP99Ms < acp.targets.roundTripP99Ms ? "met" : "NOT met"}; broadcast p99 ${acp.broadcastP99Ms.toFixed(2)} ms (target < ${acp.targets.broadcastMs} ms): ${acp.broadcastP99Ms < acp.targets.broadcastMs ? "met" : "NOT met"}`)
} finally {
  floor?.kill()
  daemon.kill("SIGTERM")
  await daemon.exited
  rmSync(dir, { recursive: true, force: true })
}
