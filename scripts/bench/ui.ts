// `bun run bench ui [--runs N] [--events N] [--minutes M] [--speed S]`: the dashboard's figures, each next to a floor
// measured in the same run, against the compiled daemon (dist/cca, assets embedded) in its own HOME and
// Debian's Chromium (playwright-core).
//
// 1. Bundle size: the embedded files, gzipped and brotli, against the 300 KB budget.
// 2. Time to first render of the overview from a cold start: a fresh Chromium process per run, signed in
//    (cookie set), from launch and from navigation to the overview drawn with data; floor: the same
//    browser loading a one-line static page from a bare Bun.serve.
// 3. Latency from a task event to the page showing it (overview activity list), p50/p95, next to a plain
//    SSE client in this process reading the same stream (the floor: what the daemon and the network cost).
// 4. Memory of the page after M simulated minutes of live events from 20 agents (remote ACP agents in this
//    process, each finishing a task every ~5 s of simulated time, so ~20 events/s; --speed compresses time:
//    the default 30 minutes at 10x run in 3). Heap after a forced GC and DOM nodes, sampled over the run; an SVG
//    of the heap goes to .bench/ui-memory.svg.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { chromium, type Browser } from "playwright-core"
import { AcpClient } from "../../src/acp/client"
import { parseSse } from "../../src/daemon/client"
import { fmt, stats } from "./_lib"

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? def : Number(process.argv[i + 1])
}
const RUNS = arg("runs", 5)
const EVENTS = arg("events", 200)
const MINUTES = arg("minutes", 30)
const SPEED = arg("speed", 10)
const AGENTS = 20
const root = join(import.meta.dir, "..", "..")
const cca = join(root, "dist", "cca")
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]

if (!(await Bun.file(cca).exists())) {
  console.error(`${cca} is missing: bun run build`)
  process.exit(2)
}
console.log(`bench ui: load ${loadavg().map((l) => l.toFixed(2)).join(" ")} on ${navigator.hardwareConcurrency} cores (a shared machine: figures are noisy)`)

// --- 1. bundle size
const uiDir = join(root, "dist", "ui")
const files = readdirSync(uiDir).filter((f) => !f.endsWith(".gz") && !f.endsWith(".br"))
let raw = 0
let gz = 0
let br = 0
for (const f of files) {
  raw += statSync(join(uiDir, f)).size
  gz += statSync(join(uiDir, `${f}.gz`)).size
  br += statSync(join(uiDir, `${f}.br`)).size
}
console.log(`\n1. bundle (${files.length} files): ${(raw / 1024).toFixed(1)} KB raw, ${(gz / 1024).toFixed(1)} KB gzip, ${(br / 1024).toFixed(1)} KB brotli; budget 300 KB gzip (${((gz / (300 * 1024)) * 100).toFixed(0)}% used)`)

// --- the daemon
const home = mkdtempSync(join(tmpdir(), "cca-bench-ui-"))
const env: Record<string, string> = { ...(process.env as Record<string, string>), HOME: home, XDG_CONFIG_HOME: join(home, ".config"), XDG_DATA_HOME: join(home, ".local/share"), XDG_CACHE_HOME: join(home, ".cache"), XDG_STATE_HOME: join(home, ".local/state"), CCA__AGENTS__MAX_AGENTS: "0", CCA__DAEMON__RATE_LIMIT_KEY_RPS: "0" }
for (const d of ["XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"]) mkdirSync(env[d]!, { recursive: true })
const made = Bun.spawnSync([cca, "keys", "create", "--name", "bench", "--json"], { env })
const key = JSON.parse(made.stdout.toString()).data.key as string
const daemon = Bun.spawn([cca, "daemon", "--port", "0", "--acp-port", "0", "--json"], { env, stdout: "pipe", stderr: "ignore" })
const reader = daemon.stdout.getReader()
let line = ""
while (!line.includes("\n")) line += new TextDecoder().decode((await reader.read()).value)
const ready = JSON.parse(line.slice(0, line.indexOf("\n"))).data as { http: string; acp: string }
void (async () => {
  while (!(await reader.read()).done) {}
})()
const api = (method: string, path: string, body?: unknown) =>
  fetch(`${ready.http}${path}`, { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) })

const signIn = await fetch(`${ready.http}/api/v1/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key }) })
const [cookieName, cookieValue] = signIn.headers.get("set-cookie")!.split(";")[0]!.split("=") as [string, string]
const cookie = { name: cookieName, value: cookieValue, url: ready.http }
const floor = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("<!doctype html><p id=x>hello</p>", { headers: { "content-type": "text/html" } }) })

const launch = () => chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS })

try {
  // --- 2. cold first render
  const total: number[] = []
  const nav: number[] = []
  const floorTotal: number[] = []
  const floorNav: number[] = []
  for (let i = 0; i < RUNS; i++) {
    for (const which of ["ui", "floor"] as const) {
      const t0 = performance.now()
      const b = await launch()
      const context = await b.newContext({ viewport: { width: 1280, height: 900 } })
      await context.addCookies([cookie])
      const page = await context.newPage()
      if (which === "ui") {
        await page.goto(`${ready.http}/ui/`, { waitUntil: "commit" })
        await page.locator('[data-testid="overview"][data-ready="true"]').waitFor({ timeout: 30_000 })
        total.push(performance.now() - t0)
        nav.push(Number(await page.evaluate("performance.now()")))
      } else {
        await page.goto(`http://127.0.0.1:${floor.port}/`, { waitUntil: "commit" })
        await page.locator("#x").waitFor()
        floorTotal.push(performance.now() - t0)
        floorNav.push(Number(await page.evaluate("performance.now()")))
      }
      await b.close()
    }
  }
  const row = (name: string, s: number[]) => {
    const x = stats(s)
    console.log(`  ${name.padEnd(44)} p50 ${fmt(x.p50).padStart(10)}  p95 ${fmt(x.p95).padStart(10)}  min ${fmt(x.min).padStart(10)}`)
  }
  console.log(`\n2. time to first render of the overview, cold (${RUNS} runs, a fresh Chromium each)`)
  row("dashboard: browser launch -> overview drawn", total)
  row("floor: browser launch -> static page drawn", floorTotal)
  row("dashboard: navigation -> overview drawn", nav)
  row("floor: navigation -> static page drawn", floorNav)

  // --- 3. event -> page latency
  const browser: Browser = await launch()
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  await context.addCookies([cookie])
  const page = await context.newPage()
  await page.goto(`${ready.http}/ui/`)
  await page.locator('[data-testid="overview"][data-ready="true"]').waitFor()
  await page.evaluate(`(() => {
    window.seen = {}
    new MutationObserver((records) => {
      const now = Date.now()
      for (const r of records) for (const n of r.addedNodes) {
        const a = n.querySelector && n.querySelector("a[href*='/ui/tasks/']")
        if (a) { const id = a.getAttribute("href").split("/").pop(); if (!(id in window.seen)) window.seen[id] = now }
      }
    }).observe(document.getElementById("main"), { childList: true, subtree: true })
  })()`)
  const sseAbort = new AbortController()
  const sse = await fetch(`${ready.http}/api/v1/events`, { headers: { authorization: `Bearer ${key}` }, signal: sseAbort.signal })
  const created = new Map<string, number>()
  const sseSeen = new Map<string, number>()
  void (async () => {
    try {
    for await (const e of parseSse(sse.body!)) {
      if (e.event !== "task") continue
      const ev = JSON.parse(e.data)
      if (ev.type === "created") sseSeen.set(ev.taskId, Date.now()), created.set(ev.taskId, new Date(ev.createdAt).getTime())
    }
    } catch {} // aborted below
  })()
  for (let i = 0; i < EVENTS; i++) {
    await api("POST", "/api/v1/tasks", { description: `latency probe ${i}`, role: "nobody" })
    await Bun.sleep(50) // 20 events a second: a steady stream, not a burst the page would batch
  }
  await Bun.sleep(1000)
  const seen = (await page.evaluate("window.seen")) as Record<string, number>
  const pageLat = [...created].filter(([id]) => seen[id]).map(([id, at]) => seen[id]! - at)
  const sseLat = [...created].filter(([id]) => sseSeen.has(id)).map(([id, at]) => sseSeen.get(id)! - at)
  console.log(`\n3. task event -> page showing it (${EVENTS} created events at 20/s; ${pageLat.length} seen by the page)`)
  row("page (SSE + render + DOM)", pageLat)
  row("floor: SSE client in this process", sseLat)
  sseAbort.abort()
  await api("POST", "/api/v1/tasks", { description: "x" }) // keep the queue non-empty is fine; nothing runs role nobody

  // --- 4. memory over a long live run
  const cdp = await context.newCDPSession(page)
  await cdp.send("Performance.enable")
  const sample = async () => {
    await cdp.send("HeapProfiler.collectGarbage")
    const m = (await cdp.send("Performance.getMetrics")).metrics
    const get = (n: string) => m.find((x) => x.name === n)?.value ?? NaN
    return { heapMb: get("JSHeapUsedSize") / 1048576, nodes: get("Nodes"), listeners: get("JSEventListeners") }
  }
  const agents: AcpClient[] = []
  let events = 0
  const perTaskMs = 5000 / SPEED // each agent finishes a task every 5 s of simulated time
  for (let i = 0; i < AGENTS; i++) {
    const c: AcpClient = new AcpClient({
      url: ready.acp,
      apiKey: key,
      agent: { agentId: `bench-agent-${i}`, role: "bench" },
      reconnect: false,
      handlers: {
        taskAssign: (t) => {
          setTimeout(() => {
            c.progress({ taskId: t.taskId, message: "half way", percent: 50 })
            void c.result({ taskId: t.taskId, status: "completed", output: "done", tokens: { input: 100, output: 10 }, durationMs: 5000 }).catch(() => {})
          }, perTaskMs)
          return { accepted: true }
        },
      },
    })
    await c.connect()
    agents.push(c)
  }
  const counterAbort = new AbortController()
  const counter = await fetch(`${ready.http}/api/v1/events`, { headers: { authorization: `Bearer ${key}` }, signal: counterAbort.signal })
  void (async () => {
    try {
      for await (const e of parseSse(counter.body!)) if (e.event === "task") events++
    } catch {} // aborted at the end
  })()
  const samples: { minute: number; heapMb: number; nodes: number; listeners: number; events: number }[] = [{ minute: 0, ...(await sample()), events }]
  const realMs = (MINUTES * 60_000) / SPEED
  const started = performance.now()
  // Keep AGENTS tasks queued or running at all times: a task per finished one.
  let backlog = 0
  const feed = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / perTaskMs) * AGENTS) + AGENTS - backlog
    for (let i = 0; i < Math.min(due, 200); i++, backlog++) void api("POST", "/api/v1/tasks", { description: `soak ${backlog}`, role: "bench" })
  }, 100)
  const every = Math.max(1, Math.floor(MINUTES / 6))
  for (let m = every; m <= MINUTES; m += every) {
    await Bun.sleep(Math.max(0, started + (m * 60_000) / SPEED - performance.now()))
    samples.push({ minute: m, ...(await sample()), events })
  }
  clearInterval(feed)
  console.log(`\n4. the overview page during ${MINUTES} simulated minutes of live events, ${AGENTS} agents (${SPEED}x: ${(realMs / 60_000).toFixed(1)} real minutes)`)
  console.log("  minute  task events  heap after GC  DOM nodes  listeners")
  for (const s of samples) console.log(`  ${String(s.minute).padStart(6)}  ${String(s.events).padStart(11)}  ${s.heapMb.toFixed(2).padStart(9)} MB  ${String(s.nodes).padStart(9)}  ${String(s.listeners).padStart(9)}`)
  const first = samples[0]!
  const last = samples.at(-1)!
  console.log(`  growth over the run: heap ${(last.heapMb - first.heapMb).toFixed(2)} MB, DOM nodes ${last.nodes - first.nodes} (the activity list keeps 100 events, 20 drawn)`)
  mkdirSync(join(root, ".bench"), { recursive: true })
  const W = 600
  const H = 200
  const maxHeap = Math.max(...samples.map((s) => s.heapMb)) * 1.2
  const pts = samples.map((s) => `${(40 + (s.minute / MINUTES) * (W - 60)).toFixed(1)},${(H - 30 - (s.heapMb / maxHeap) * (H - 50)).toFixed(1)}`).join(" ")
  await Bun.write(
    join(root, ".bench", "ui-memory.svg"),
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11"><title>Dashboard heap (MB after GC) over ${MINUTES} simulated minutes, ${AGENTS} agents</title><rect width="100%" height="100%" fill="#fff"/><polyline fill="none" stroke="#0969da" stroke-width="2" points="${pts}"/><text x="40" y="14">heap after GC, MB (max ${maxHeap.toFixed(1)} on this scale) over simulated minutes 0-${MINUTES}</text><text x="40" y="${H - 10}">0</text><text x="${W - 30}" y="${H - 10}">${MINUTES}</text></svg>\n`,
  )
  console.log(`  picture: .bench/ui-memory.svg`)
  counterAbort.abort()
  for (const a of agents) await a.close().catch(() => {})
  await browser.close()
} finally {
  floor.stop(true)
  daemon.kill("SIGTERM")
  await Promise.race([daemon.exited, Bun.sleep(15_000)])
  if (daemon.exitCode === null) daemon.kill("SIGKILL")
  rmSync(home, { recursive: true, force: true })
}
