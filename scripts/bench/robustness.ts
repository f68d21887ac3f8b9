// `bun run bench robustness`: issue 15's probe figures, rerun against the
// compiled daemon (dist/cca; `bun run build` first), each next to a baseline
// measured in the same run:
//   1. malformed bodies (100k-deep nesting included) on every POST route: 5xx count
//   2. /health latency next to those bodies vs. its idle floor (no request stalls another)
//   3. malformed ACP frames: internal errors (-32603) vs. valid heartbeats answered
//   4. a flood of unauthenticated connections: the daemon's fds and RSS before/after
//   5. real claude agents alive 2 s after their daemon's SIGKILL (with setpriv; without, the next daemon reaps them)
//   6. requeued work after a restart: ready -> claimed again, vs. a fresh task's ready -> claimed
// Figures on a shared machine are noisy; rerun on a quiet one.
import { mkdirSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { processStart } from "../../src/agent/reaper"
import { CLAUDE, claudeEnv, SONNET } from "../../test/support/claude"
import { startModelServer } from "../../test/support/model-server"
import { tmpdir } from "../../test/support/tmpdir"
import { api, createKey, homeEnv, startDaemonProcess, waitForTaskEvent, type DaemonProcess } from "../../test/e2e/daemon-process"
import { fmt, printTable, stats } from "./_lib"

const quick = process.argv.includes("--quick")
await using tmp = await tmpdir({ prefix: "cca-bench-robust-" })
await using model = await startModelServer([{ match: { lastUserText: /bench: slow/ }, reply: { content: "slow done", delayMs: 3000 } }])
const rows: [string, string, string][] = []
const row = (what: string, value: string, baseline: string) => (rows.push([what, value, baseline]), console.log(`  ${what}: ${value}  (baseline: ${baseline})`))

const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024
const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length

// ---- HTTP: one daemon without agents ----
{
  const env = homeEnv(join(tmp.path, "http"))
  const key = await createKey(env)
  const d = await startDaemonProcess(env)
  const call = api(d.ready, key)
  const doc = (await (await call("GET", "/api/v1/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> }
  const posts = Object.entries(doc.paths)
    .filter(([, ops]) => "post" in ops)
    .map(([p]) => p.replace(/\{[^}]+\}/g, "01a23bbb-8e58-769c-b3b6-19d4c92a1589"))
  const bodies = [
    "[".repeat(100_000),
    '{"a":'.repeat(100_000),
    "{",
    "",
    "null",
    '"\u0000"',
    '{"description":"\\u0000"}',
    '{"description":1e400}',
    '{"description":[[[[[[[]]]]]]]}',
    '{"message":{"nested":' + "[".repeat(60) + "]".repeat(60) + "}}",
    JSON.stringify({ description: "x", metadata: { a: "\u0000", ["\u0000"]: 1 } }),
    "\xff\xfe garbage",
  ]
  let total = 0
  let fiveXX = 0
  const statuses = new Map<number, number>()
  for (const path of posts) {
    for (const body of bodies) {
      const res = await fetch(`${d.ready.http}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body })
      await res.arrayBuffer()
      total++
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      if (res.status >= 500 && res.status !== 503) fiveXX++ // 503: a capability the store has not got (vectors), not a failure
    }
  }
  console.log(`\n1. malformed bodies on ${posts.length} POST routes x ${bodies.length} bodies`)
  row("5xx answers", `${fiveXX} of ${total}`, `statuses ${[...statuses].map(([s, n]) => `${s}:${n}`).join(" ")}`)

  // 2. /health next to deep bodies
  const health = async () => {
    const t0 = performance.now()
    await (await fetch(`${d.ready.http}/api/v1/health`)).arrayBuffer()
    return performance.now() - t0
  }
  const idle: number[] = []
  for (let i = 0; i < (quick ? 50 : 200); i++) idle.push(await health())
  let flooding = true
  const deep = "[".repeat(100_000)
  const flood = Array.from({ length: 8 }, async () => {
    while (flooding) await (await fetch(`${d.ready.http}/api/v1/tasks`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: deep })).arrayBuffer()
  })
  const busy: number[] = []
  for (let i = 0; i < (quick ? 50 : 200); i++) busy.push(await health())
  flooding = false
  await Promise.all(flood)
  console.log("\n2. /health latency")
  printTable("  GET /api/v1/health", { "idle (floor)": stats(idle), "next to 8 streams of 100k-deep bodies": stats(busy) }, "idle (floor)")
  row("/health p95 next to deep bodies", fmt(stats(busy).p95), `idle p95 ${fmt(stats(idle).p95)}`)

  // 3. ACP frames
  const ws = new WebSocket(d.ready.acp, { headers: { authorization: `Bearer ${key}` } } as unknown as string[])
  await new Promise<void>((resolve, reject) => ((ws.onopen = () => resolve()), (ws.onerror = () => reject(new Error("acp socket failed")))))
  const codes = new Map<number, number>()
  let answered = 0
  let want = 0
  let done: (() => void) | undefined
  ws.onmessage = (m) => {
    const f = JSON.parse(String(m.data)) as { method?: string; error?: { code: number } }
    if (f.method) return
    const c = f.error?.code ?? 0
    codes.set(c, (codes.get(c) ?? 0) + 1)
    if (++answered >= want) done?.()
  }
  const values: unknown[] = ["\u0000", "", "x".repeat(300), -1, 1e308, null, true, [], {}, [[["deep"]]], { agentId: "\u0000" }]
  const keys = ["agentId", "role", "taskId", "status", "output", "capabilities", "tokens", "error", "host", "message"]
  const methods = ["agent.register", "task_result", "heartbeat", "task.progress", "broadcast", "agent.delegate", "agent.message", "nope"]
  const frames: string[] = ["{", "[]", "null", "42", "[".repeat(100_000), '{"jsonrpc":"1.0","id":1,"method":"x"}', '{"jsonrpc":"2.0","id":{},"method":"heartbeat"}']
  const n = quick ? 1000 : 10_000
  for (let i = 0; i < n; i++) {
    const params: Record<string, unknown> = {}
    for (let k = 0; k < 1 + (i % 4); k++) params[keys[(i * 7 + k) % keys.length]!] = values[(i * 3 + k) % values.length]
    frames.push(JSON.stringify({ jsonrpc: "2.0", id: i + 10, method: methods[i % methods.length], params: i % 11 === 0 ? 7 : params }))
  }
  want = frames.length
  const all = new Promise<void>((r) => (done = r))
  const t0 = performance.now()
  for (const f of frames) ws.send(f)
  await Promise.race([all, Bun.sleep(60_000)])
  const acpMs = performance.now() - t0
  ws.close()
  console.log(`\n3. ${frames.length} malformed ACP frames (${fmt(acpMs)})`)
  row("internal errors (-32603)", String(codes.get(-32603) ?? 0), `answered ${answered} of ${frames.length}: ${[...codes].map(([c, k]) => `${c}:${k}`).join(" ")}`)

  // 4. unauthenticated flood
  const pid = d.ready.pid
  const before = { fds: fds(pid), rss: rss(pid) }
  const conns = quick ? 500 : 2000
  const sockets: { end(): void }[] = []
  let peakFds = before.fds
  for (let i = 0; i < conns; i++) {
    const s = await Bun.connect({ hostname: "127.0.0.1", port: Number(new URL(d.ready.http).port), socket: { data() {}, close() {}, error() {} } }).catch(() => null)
    if (!s) continue
    s.write(`GET /api/v1/tasks/x/events HTTP/1.1\r\nhost: x\r\n\r\n`)
    sockets.push(s)
    if (i % 200 === 0) peakFds = Math.max(peakFds, fds(pid))
  }
  await Bun.sleep(1000)
  const after = { fds: fds(pid), rss: rss(pid) }
  peakFds = Math.max(peakFds, after.fds)
  for (const s of sockets) s.end()
  console.log(`\n4. ${conns} unauthenticated connections (event-stream requests, no key)`)
  row("daemon fds 1 s after the flood", `${after.fds} (peak seen ${peakFds})`, `${before.fds} before`)
  row("daemon RSS 1 s after the flood", `${after.rss.toFixed(0)} MiB`, `${before.rss.toFixed(0)} MiB before`)
  d.proc.kill("SIGTERM")
  await d.exited
}

// ---- agents: real claude with the scripted model ----
async function agentDaemon(name: string, extra: Record<string, string> = {}): Promise<{ env: Record<string, string>; key: string }> {
  const env = homeEnv(join(tmp.path, name), { ...claudeEnv(model), CCA__AGENTS__CLAUDE_PATH: CLAUDE, CCA__AGENTS__MODEL: SONNET, CCA__AGENTS__WORKSPACE: tmp.path, CCA__AGENTS__MAX_AGENTS: "2", ...extra })
  return { env, key: await createKey(env) }
}
const agentPids = (env: Record<string, string>) => {
  try {
    return readdirSync(join(env.XDG_DATA_HOME!, "cca", "run", "agents")).map((f) => Number.parseInt(f, 10))
  } catch {
    return []
  }
}
async function runningTasks(d: DaemonProcess, key: string, n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) ids.push(((await (await api(d.ready, key)("POST", "/api/v1/tasks", { description: `bench: slow ${i}`, role: "backend" })).json()) as { id: string }).id)
  for (const id of ids) await waitForTaskEvent(d.ready, key, id, "accepted")
  return ids
}
/** The task's event stream until an `accepted` event that comes after a `requeued` one (the store replays the first attempt's). */
async function acceptedAgain(d: DaemonProcess, key: string, id: string): Promise<void> {
  const res = await api(d.ready, key)("GET", `/api/v1/tasks/${id}/events`)
  const reader = res.body!.getReader()
  let text = ""
  for (;;) {
    const at = text.indexOf("event: requeued\n")
    if (at >= 0 && text.indexOf("event: accepted\n", at) > at) break
    const { value, done } = await reader.read()
    if (done) throw new Error(`the stream of task ${id} ended before it was accepted again`)
    text += new TextDecoder().decode(value)
  }
  await reader.cancel()
}
const aliveAfter = async (pids: number[], ms: number) => (await Bun.sleep(ms), pids.filter((p) => processStart(p) !== undefined))

{
  console.log("\n5. agents alive 2 s after their daemon's SIGKILL (2 real claude agents each)")
  const withSetpriv = await agentDaemon("orph-a")
  let d = await startDaemonProcess(withSetpriv.env)
  await runningTasks(d, withSetpriv.key, 2)
  let pids = agentPids(withSetpriv.env)
  d.proc.kill("SIGKILL")
  await d.exited
  const left = await aliveAfter(pids, 2000)
  const bin = join(tmp.path, "empty-bin")
  mkdirSync(bin, { recursive: true })
  const without = await agentDaemon("orph-b")
  d = await startDaemonProcess({ ...without.env, PATH: bin })
  await runningTasks(d, without.key, 2)
  pids = agentPids(without.env)
  d.proc.kill("SIGKILL")
  await d.exited
  const orphaned = await aliveAfter(pids, 2000)
  const t0 = performance.now()
  d = await startDaemonProcess(without.env)
  const reapedIn = performance.now() - t0
  const stillAfterRestart = pids.filter((p) => processStart(p) !== undefined)
  row("alive 2 s after SIGKILL (setpriv, parent-death signal)", `${left.length} of ${pids.length}`, `without setpriv: ${orphaned.length} of ${pids.length}, then ${stillAfterRestart.length} after the next daemon's start (${fmt(reapedIn)} to ready, run dir reaped)`)
  d.proc.kill("SIGTERM")
  await d.exited
}

{
  console.log("\n6. requeued work after a restart (local pool, real claude)")
  const { env, key } = await agentDaemon("requeue")
  let d = await startDaemonProcess(env)
  const t0 = performance.now()
  const fresh = await runningTasks(d, key, 1)
  const freshMs = performance.now() - t0
  await waitForTaskEvent(d.ready, key, fresh[0]!, "completed")
  const ids = await runningTasks(d, key, 2)
  d.proc.kill("SIGKILL")
  await d.exited
  d = await startDaemonProcess(env)
  const ready = performance.now()
  const claimed: number[] = []
  await Promise.all(ids.map(async (id) => (await acceptedAgain(d, key, id), claimed.push(performance.now() - ready))))
  await Promise.all(ids.map((id) => waitForTaskEvent(d.ready, key, id, "completed")))
  const finished = performance.now() - ready
  row("restart ready -> requeued tasks accepted again", `${claimed.sort((a, b) => a - b).map(fmt).join(", ")} (each of ${ids.length}); all done ${fmt(finished)}`, `a fresh task create -> accepted ${fmt(freshMs)} (agent spawn); probe before the fix: 43.6 s to finish`)
  d.proc.kill("SIGTERM")
  await d.exited
}

console.log("\nsummary (figures from a shared machine are noisy)")
for (const [what, value, base] of rows) console.log(`  ${what.padEnd(58)} ${value}   | ${base}`)
