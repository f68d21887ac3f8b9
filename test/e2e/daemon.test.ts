import { afterAll, beforeAll, expect, test } from "bun:test"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { AcpClient } from "../../src/acp/client"
import { cli } from "../support/cli"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { api, createKey, homeEnv, startDaemonProcess, waitForTaskEvent, type DaemonProcess } from "./daemon-process"

// The compiled binary as users run it: `cca daemon` on free ports with the
// embedded store in a temp HOME, driven over HTTP (fetch and the CLI clients)
// and WebSocket (the acp client library as a test agent).

let tmp: TmpDir
let env: Record<string, string>
let key: string
let d: DaemonProcess
const agents: AcpClient[] = []

beforeAll(async () => {
  tmp = await tmpdir({ prefix: "cca-e2e-" })
  env = homeEnv(tmp.path, { CCA__DAEMON__SHUTDOWN_GRACE_S: "1" })
  key = await createKey(env)
  d = await startDaemonProcess(env)
}, 120_000)

afterAll(async () => {
  for (const a of agents) await a.close().catch(() => {})
  if (d.proc.exitCode === null) d.proc.kill("SIGKILL")
  await d.exited
  await tmp[Symbol.asyncDispose]()
})

async function agent(agentId: string, role: string, handlers: ConstructorParameters<typeof AcpClient>[0]["handlers"]): Promise<AcpClient> {
  const c = new AcpClient({ url: d.ready.acp, apiKey: key, agent: { agentId, role }, handlers, reconnect: false })
  await c.connect()
  agents.push(c)
  return c
}

const waitForEvent = (id: string, type: string) => waitForTaskEvent(d.ready, key, id, type)

const cca = (args: string[], extra: Record<string, string> = {}) => cli(args, { name: "cca", env: { ...env, CCA_API_KEY: key, ...extra } })

test("the ready line names the bound addresses; a second daemon on the same data dir is refused", async () => {
  expect(d.ready).toMatchObject({ ready: true, pid: d.proc.pid })
  expect(d.ready.http).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  expect(d.ready.acp).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/)
  expect(existsSync(join(env.XDG_DATA_HOME!, "cca", "run", "daemon.pid"))).toBe(true)
  const second = await cli(["daemon", "--port", "0", "--acp-port", "0"], { name: "cca", env })
  expect(second.code).toBe(5)
  expect(second.stderr).toContain(`a daemon is already running on this data dir (pid ${d.proc.pid}`)
  expect(second.stderr).toContain("Try:")
})

test("every route in the OpenAPI document but the public ones (health, the dashboard's files and sign-in) answers 401 without a valid key", async () => {
  const doc = (await (await api(d.ready, key)("GET", "/api/v1/openapi.json")).json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> }
  const all = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => ({ method: m.toUpperCase(), path, open: op.security?.length === 0 })))
  expect(all.filter((r) => r.open).map((r) => `${r.method} ${r.path}`).sort()).toEqual(["GET /api/v1/health", "GET /ui", "GET /ui/*", "POST /api/v1/session"])
  const routes = all.filter((r) => !r.open || r.path === "/api/v1/health").map((r) => [r.method, r.path.replace(/\{[^}]+\}/g, "x")] as const)
  expect(routes.length).toBeGreaterThan(25)
  for (const [method, path] of routes) {
    for (const k of [null, "cca_0000000000_not-a-real-key"]) {
      const res = await api(d.ready, k)(method, path, method === "POST" ? {} : undefined)
      const expected = path === "/api/v1/health" ? 200 : 401
      expect({ method, path, key: k, status: res.status }).toEqual({ method, path, key: k, status: expected })
      if (expected === 401) expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized")
    }
  }
})

test("cca status, task create/list/status and agents list talk to the daemon found in the run dir", async () => {
  const status = await cca(["status", "--json"])
  expect(status.code).toBe(0)
  expect(status.json().data.daemon.http).toBe(d.ready.http)
  const noKey = await cca(["status"], { CCA_API_KEY: "" })
  expect(noKey.code).toBe(3)
  expect(noKey.stderr).toContain("Try: set CCA_API_KEY")

  const created = await cca(["task", "create", "summarise the logs", "--role", "e2e-nobody", "--priority", "3", "--json"])
  expect(created.code).toBe(0)
  const id = created.json().data.id as string
  const list = await cca(["task", "list", "--status", "pending", "--json"])
  expect(list.json().data.items.map((t: { id: string }) => t.id)).toContain(id)
  const shown = await cca(["task", "status", id])
  expect(shown.stdout).toContain("summarise the logs")
  expect(shown.stdout).toContain("pending")
  expect((await cca(["task", "status", "01a1feb6-0000-7000-8000-00000000dead"])).code).toBe(1)
  const cancelled = await cca(["task", "cancel", id, "--json"])
  expect(cancelled.json().data.status).toBe("cancelled")
  expect((await cca(["task", "cancel", id])).code).toBe(2) // 409: already cancelled

  await agent("e2e-lister", "lister", {})
  const agentsList = await cca(["agents", "list", "--json"])
  expect(agentsList.json().data.items).toContainEqual(expect.objectContaining({ id: "e2e-lister", role: "lister", status: "idle" }))
})

test("cca task watch follows the events; its exit code is the task's outcome", async () => {
  const pending: Promise<unknown>[] = []
  const worker = await agent("e2e-worker", "watch", {
    taskAssign: (p) => {
      setTimeout(() => pending.push(worker.result(p.prompt.includes("fail") ? { taskId: p.taskId, status: "failed", error: "it broke" } : { taskId: p.taskId, status: "completed", output: "all good" })), 50)
      return { accepted: true }
    },
  })
  const ok = (await cca(["task", "create", "do it", "--role", "watch"])).stdout.trim()
  const watched = await cca(["task", "watch", ok])
  expect(watched.code).toBe(0)
  expect(watched.stdout).toMatch(/created[\s\S]*claimed\s+agent e2e-worker[\s\S]*completed/)
  expect(watched.stdout).toContain("result:      all good")

  const bad = (await cca(["task", "create", "please fail", "--role", "watch"])).stdout.trim()
  const failed = await cca(["task", "watch", bad, "--json"])
  expect(failed.code).toBe(4)
  const env_ = failed.json()
  expect(env_.data.task.status).toBe("failed")
  expect(env_.status.warnings[0]).toContain("it broke")
  expect(env_.data.events.map((e: { type: string }) => e.type)).toEqual(["created", "claimed", "accepted", "failed"])

  const never = (await cca(["task", "create", "wait forever", "--role", "watch-none"])).stdout.trim()
  const watching = cca(["task", "watch", never])
  await cca(["task", "cancel", never]) // before or after watch subscribes: it replays, so either way it sees the cancel
  expect((await watching).code).toBe(130)
  await Promise.all(pending)
})

test("10,000 malformed ACP frames each get a JSON-RPC error; the connection and the daemon stay healthy", async () => {
  const ws = new WebSocket(d.ready.acp, { headers: { authorization: `Bearer ${key}` } } as unknown as string[])
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve()
    ws.onerror = () => reject(new Error("websocket failed"))
  })
  await opened
  const answers: { id: unknown; error?: { code: number }; result?: unknown }[] = []
  let done: () => void
  const finished = new Promise<void>((r) => (done = r))
  ws.onmessage = (m) => {
    const msg = JSON.parse(String(m.data))
    answers.push(msg)
    if (msg.id === "final") done()
  }
  const big = "x".repeat(1_100_000)
  const kinds = [
    () => "{not json",
    () => "[]",
    () => '"just a string"',
    (i: number) => JSON.stringify({ jsonrpc: "1.0", id: i, method: "heartbeat" }),
    (i: number) => JSON.stringify({ jsonrpc: "2.0", id: i, method: "no.such.method" }),
    (i: number) => JSON.stringify({ jsonrpc: "2.0", id: i, method: "agent.register", params: { agentId: "", role: 5 } }),
    (i: number) => JSON.stringify({ jsonrpc: "2.0", id: i, method: "task_result", params: { taskId: "t", status: "completed" } }),
    (i: number) => JSON.stringify({ jsonrpc: "2.0", id: i, method: "heartbeat", params: "nope" }),
    (i: number) => JSON.stringify({ jsonrpc: "2.0", id: i }),
    (i: number) => (i % 2000 === 9 ? `{"jsonrpc":"2.0","id":${i},"method":"broadcast","params":{"message":"${big}"}}` : JSON.stringify({ jsonrpc: "2.0", id: i, method: 42 })),
  ]
  for (let i = 0; i < 10_000; i++) ws.send(kinds[i % kinds.length]!(i))
  ws.send(JSON.stringify({ jsonrpc: "2.0", id: "final", method: "health_check", params: {} }))
  await finished
  const errors = answers.filter((a) => a.error)
  expect(errors.length).toBe(10_000)
  expect(new Set(errors.map((e) => e.error!.code))).toEqual(new Set([-32700, -32600, -32601, -32602, -32002, -32001]))
  expect(answers.at(-1)).toMatchObject({ id: "final", result: { status: "ok" } })
  expect(ws.readyState).toBe(WebSocket.OPEN)
  ws.close()

  const health = await (await api(d.ready, null)("GET", "/api/v1/health")).json()
  expect(health).toMatchObject({ status: "ok", checks: { acp: { state: "ok" } } })
  let offered!: (id: string) => void
  const got = new Promise<string>((r) => (offered = r))
  const fine = await agent("e2e-after-fuzz", "after-fuzz", { taskAssign: (p) => (offered(p.taskId), { accepted: true }) })
  const id = (await cca(["task", "create", "still works", "--role", "after-fuzz"])).stdout.trim()
  const watch = cca(["task", "watch", id])
  expect(await got).toBe(id)
  await waitForEvent(id, "accepted")
  await fine.result({ taskId: id, status: "completed", output: "yes" })
  expect((await watch).code).toBe(0)
})

test("SIGTERM: stops accepting, requeues what did not finish in the grace period, exits 0 and removes its pid file", async () => {
  const held = await agent("e2e-holder", "holder", { taskAssign: () => ({ accepted: true }) })
  const id = (await cca(["task", "create", "unfinished business", "--role", "holder"])).stdout.trim()
  await waitForEvent(id, "accepted")
  d.proc.kill("SIGTERM")
  expect(await d.exited).toBe(0)
  expect(d.stderr()).toContain("SIGTERM: shutting down")
  expect(existsSync(join(env.XDG_DATA_HOME!, "cca", "run", "daemon.pid"))).toBe(false)
  expect(existsSync(join(env.XDG_DATA_HOME!, "cca", "run", "daemon.json"))).toBe(false)
  expect(held.state).not.toBe("ready")
  const down = await cca(["status"])
  expect(down.code).toBe(5)
  expect(down.stderr).toContain("Try: cca daemon")

  d = await startDaemonProcess(env)
  const after = await cca(["task", "status", id, "--json"])
  expect(after.json().data).toMatchObject({ status: "pending", attempts: 1, agentId: null })
}, 120_000)
