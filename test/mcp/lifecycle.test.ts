import { afterEach, expect, test } from "bun:test"
import { deferred } from "../acp/support"
import { binary } from "../support/cli"
import { tmpdir } from "../support/tmpdir"
import { childEnv, daemonEnv, homeEnv, startDaemon, startMcp, text } from "./support"

// `cca mcp` when the daemon is missing, mute, or the call is cancelled; what
// goes to stdout; and how the server ends. A daemon that accepts and never
// answers is played by a loopback HTTP server that holds every request open
// and records when the client hangs up.

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

async function home(): Promise<Record<string, string>> {
  const tmp = await tmpdir({ prefix: "cca-mcp-life-" })
  cleanup.push(() => tmp[Symbol.asyncDispose]())
  return homeEnv(tmp.path)
}

/** A free port with nothing listening on it. */
function closedPort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() })
  const port = s.port!
  s.stop(true)
  return port
}

/** An HTTP server that never answers: every request waits until its client hangs up. */
function muteServer() {
  const seen: { path: string; aborted: Promise<void> }[] = []
  const waiters: { n: number; resolve(): void }[] = []
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch(req) {
      const gone = deferred<void>()
      req.signal.addEventListener("abort", () => gone.resolve(), { once: true })
      seen.push({ path: new URL(req.url).pathname, aborted: gone.promise })
      for (const w of waiters.filter((w) => seen.length >= w.n)) w.resolve()
      return gone.promise.then(() => new Response(null, { status: 499 }))
    },
  })
  cleanup.push(() => server.stop(true))
  /** Resolves once `n` requests have arrived. */
  const arrived = (n: number) => (seen.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })))
  return { url: `http://127.0.0.1:${server.port}`, seen, arrived }
}

test("no daemon: every tool answers with a tool error that says to start one", async () => {
  const url = `http://127.0.0.1:${closedPort()}`
  const mcp = await startMcp([], { ...(await home()), CCA_DAEMON_URL: url, CCA_API_KEY: "cca_abc_secret" })
  cleanup.push(() => mcp.close())
  const { tools } = await mcp.client.listTools()
  expect(tools).toHaveLength(17)
  const args: Record<string, Record<string, unknown>> = {
    cca_task: { description: "x", wait: true }, cca_memory: { query: "x" }, cca_broadcast: { message: "x" }, cca_rl_algorithm: { algorithm: "ppo" },
    cca_tokens_analyze: { content: "x" }, cca_tokens_compress: { content: "x" }, cca_index_codebase: { path: "." }, cca_search_code: { query: "x" },
  }
  for (const t of tools) {
    const r = await mcp.call(t.name, args[t.name] ?? {})
    expect(r.isError, t.name).toBe(true)
    expect(text(r), t.name).toBe(`${t.name}: no daemon is answering at ${url}\nTry: cca daemon`)
  }
  expect(mcp.stderr()).not.toContain("cca_abc_secret")
})

test("a daemon that accepts and never answers: the tool fails after --timeout instead of hanging", async () => {
  const mute = muteServer()
  const mcp = await startMcp(["--timeout", "0.5"], { ...(await home()), CCA_DAEMON_URL: mute.url })
  cleanup.push(() => mcp.close())
  const r = await mcp.call("cca_agents")
  expect(r.isError).toBe(true)
  expect(text(r)).toBe(`cca_agents: the daemon at ${mute.url} did not answer within 500 ms\nTry: cca daemon (is it overloaded or stuck? see its log)`)
  await mute.seen[0]!.aborted // the request was given up, not left open
  // Waiting for a task: the event stream must start within the timeout too.
  const waited = await mcp.call("cca_status", { task_id: "t1" })
  expect(text(waited)).toContain("did not answer within 500 ms")
})

test("notifications/cancelled aborts the daemon request in flight, and the server goes on serving", async () => {
  const mute = muteServer()
  const mcp = await startMcp([], { ...(await home()), CCA_DAEMON_URL: mute.url })
  cleanup.push(() => mcp.close())
  const ctl = new AbortController()
  const call = mcp.call("cca_workloads", {}, { signal: ctl.signal })
  await mute.arrived(1)
  expect(mute.seen.map((s) => s.path)).toEqual(["/api/v1/workloads"])
  ctl.abort("the user pressed Esc")
  await expect(call).rejects.toThrow()
  await mute.seen[0]!.aborted // the fetch to the daemon was aborted by the cancellation
  // Still serving: a later call is answered (here: by the same mute daemon, so cancel it too).
  const later = new AbortController()
  const second = mcp.call("cca_acp_status", {}, { signal: later.signal })
  await mute.arrived(2)
  later.abort()
  await expect(second).rejects.toThrow()
  await mute.seen[1]!.aborted
})

test("stdout carries only JSON-RPC, and the server exits 0 when the client closes stdin", async () => {
  const url = `http://127.0.0.1:${closedPort()}`
  const lines = [
    { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } },
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", id: 2, method: "tools/list" },
    { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "cca_task", arguments: { description: "x" } } },
    { jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "cca_task", arguments: {} } },
    { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 99, reason: "unknown request: ignored" } },
    { jsonrpc: "2.0", id: 5, method: "ping" },
  ]
  const proc = Bun.spawn([binary("cca"), "mcp", "--verbose"], {
    env: childEnv({ ...(await home()), CCA_DAEMON_URL: url }),
    stdin: new TextEncoder().encode(lines.map((l) => JSON.stringify(l)).join("\n") + "\n"),
    stdout: "pipe",
    stderr: "pipe",
    timeout: 20_000,
  })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  expect(code).toBe(0)
  const messages = out.trim().split("\n").map((l) => JSON.parse(l) as { jsonrpc: string; id: number; result?: { isError?: boolean; tools?: unknown[] } })
  expect(messages.every((m) => m.jsonrpc === "2.0")).toBe(true)
  expect(messages.map((m) => m.id).sort()).toEqual([1, 2, 3, 4, 5])
  const byId = Object.fromEntries(messages.map((m) => [m.id, m]))
  expect(byId[2]!.result!.tools).toHaveLength(17)
  expect(byId[3]!.result!.isError).toBe(true)
  expect(byId[4]!.result!.isError).toBe(true)
  expect(err).toContain("mcp server starting") // --verbose logs go to stderr
})

test("bad command-line input is a usage error with a hint", async () => {
  const env = childEnv(await home())
  const r = Bun.spawnSync([binary("cca"), "mcp", "--timeout", "soon"], { env, stdin: "ignore" })
  expect(r.exitCode).toBe(2)
  expect(r.stderr.toString()).toContain("--timeout must be a number of seconds above 0, not soon\nTry: cca mcp --timeout 10")
  const role = Bun.spawnSync([binary("cca"), "mcp", "--role", "qa"], { env, stdin: "ignore" })
  expect(role.exitCode).toBe(2)
  expect(role.stderr.toString()).toContain("--role only applies with --agent")
})

test("the daemon going away while cca_task waits: a tool error naming the task to check later", async () => {
  const d = await startDaemon()
  let stopped = false
  cleanup.push(async () => stopped || (await d[Symbol.asyncDispose]()))
  const mcp = await startMcp([], daemonEnv(d))
  cleanup.push(() => mcp.close())
  const streaming = deferred<void>()
  const call = mcp.call("cca_task", { description: "outlive the daemon", role: "life-nobody", wait: true }, { onprogress: () => streaming.resolve() })
  await streaming.promise // the event stream is open: its replay of "created" arrived
  await d[Symbol.asyncDispose]()
  stopped = true
  const r = await call
  expect(r.isError).toBe(true)
  expect(text(r)).toMatch(/^cca_task: task (\S+) was queued, but waiting for it failed: .+\nTry: the task goes on in the daemon; check it with cca_status \{"task_id": "\1"\}$/)
}, 60_000)
