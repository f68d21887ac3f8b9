import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test"
import { readdirSync, readFileSync, readlinkSync } from "node:fs"
import { join } from "node:path"
import { AcpClient } from "../../src/acp/client"
import { BRIDGE_CAPABILITY } from "../../src/acp/bridge"
import { CLAUDE, claudeEnv, SONNET } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import { testDaemon, type TestDaemon } from "../daemon/harness"
import { fakeClaude, SOURCE_MAIN } from "./support"

setDefaultTimeout(120_000)

// The agent routes through `app.handle`, on a real daemon (PGlite, in-process
// state, ACP) whose pool runs the real claude against a scripted model.

let model: ModelServer
let t: TestDaemon
type ErrorBody = { error: { code: string; message: string; hint?: string; details?: { lastOutput?: string } } }

beforeAll(async () => {
  model = await startModelServer([
    { match: { lastUserText: "hello" }, reply: { content: "hello from the pool", usage: { input: 321, output: 12 } } },
    { match: { lastUserText: "take your time" }, reply: { content: "done slowly", delayMs: 2_000 } },
    { match: { lastUserText: "who is here", toolResult: false }, reply: { content: [{ type: "tool_use", name: "mcp__cca__cca_agents", input: {} }] } },
    { match: { toolResult: { name: "mcp__cca__cca_agents" } }, reply: (c) => ({ content: `agents tool said: ${c.toolResults[0]!.text}` }) },
  ])
  t = await testDaemon({ agents: { claude_path: CLAUDE, model: SONNET, max_agents: 3 } }, { pool: { env: claudeEnv(model), mcpCommand: null } })
})

afterAll(async () => {
  await t?.[Symbol.asyncDispose]()
  await model?.close()
})

test("spawn answers 201 once ready; list and get show the agent with its state-store status and heartbeat; stop and delete end it", async () => {
  const spawned = await t.json("POST", "/api/v1/agents", { role: "backend", id: "be-routes" })
  expect(spawned.status).toBe(201)
  expect(spawned.res.headers.get("location")).toBe("/api/v1/agents/be-routes")
  expect(spawned.body).toMatchObject({ id: "be-routes", role: "backend", kind: "local", driver: "stream", status: "idle", health: "healthy", taskIds: [] })
  expect(spawned.body.pid).toBeGreaterThan(0)
  await t.daemon.ctx.pool.flush()

  const list = await t.json("GET", "/api/v1/agents")
  const item = list.body.items.find((a: { id: string }) => a.id === "be-routes")
  const live = await t.daemon.ctx.state.getAgent("be-routes")
  expect(item).toMatchObject({ status: live!.status, lastHeartbeatAt: new Date(live!.lastHeartbeatAt).toISOString(), kind: "local" })
  expect((await t.json("GET", "/api/v1/agents?role=backend")).body.items.map((a: { id: string }) => a.id)).toEqual(["be-routes"])
  expect((await t.json("GET", "/api/v1/agents?role=qa")).body.items).toEqual([])
  expect((await t.json("GET", "/api/v1/agents/be-routes")).body).toMatchObject({ id: "be-routes", status: "idle" })
  const row = await t.daemon.ctx.store.agents.get("be-routes")
  expect(row).toMatchObject({ role: "backend", driver: "stream", status: "idle", daemonId: t.daemon.daemonId, pid: spawned.body.pid })

  const sent = await t.json("POST", "/api/v1/agents/be-routes/send", { message: "hello" })
  expect(sent.status).toBe(200)
  expect(sent.body.result).toMatchObject({ ok: true, text: "hello from the pool", usage: { inputTokens: 321, outputTokens: 12 } })
  const logs = await t.json("GET", "/api/v1/agents/be-routes/logs?limit=50")
  expect(logs.body.items.map((e: { kind: string }) => e.kind)).toEqual(expect.arrayContaining(["lifecycle", "prompt", "text", "turn_end"]))
  expect((await t.json("GET", `/api/v1/agents/be-routes/logs?after=${logs.body.next}`)).body.items).toEqual([])
  expect((await t.json("GET", "/api/v1/agents/be-routes/logs?limit=abc")).status).toBe(400)

  const later = await t.json("POST", "/api/v1/agents/be-routes/send", { message: "take your time", wait: false })
  expect(later.status).toBe(202)
  const busy = await t.json("POST", "/api/v1/agents/be-routes/send", { message: "hello" })
  expect(busy.status).toBe(409)
  expect((busy.body as ErrorBody).error.code).toBe("agent_busy")
  expect((await t.json("GET", "/api/v1/agents/be-routes")).body).toMatchObject({ status: "busy" })

  const stopped = await t.json("POST", "/api/v1/agents/be-routes/stop")
  expect(stopped.status).toBe(200)
  expect(stopped.body.status).toBe("stopped")
  expect((await t.json("GET", "/api/v1/agents/be-routes")).body.status).toBe("stopped")
  expect((await t.json("GET", "/api/v1/agents")).body.items.some((a: { id: string }) => a.id === "be-routes")).toBe(false)
  expect((await t.daemon.ctx.store.agents.get("be-routes"))?.status).toBe("stopped")

  await t.json("POST", "/api/v1/agents", { role: "qa", id: "qa-routes" })
  expect((await t.json("DELETE", "/api/v1/agents/qa-routes")).body.status).toBe("stopped")
  expect((await t.json("POST", "/api/v1/agents/nobody/stop")).status).toBe(404)
  expect((await t.json("GET", "/api/v1/agents/nobody/logs")).status).toBe(404)
})

test("bad spawns are refused with the right status: validation 400, unknown role 404, full pool 409 with a hint, failed start 502 with the last output", async () => {
  expect((await t.json("POST", "/api/v1/agents", { role: "Back End" })).status).toBe(400)
  expect((await t.json("POST", "/api/v1/agents", { role: "backend", driver: "tmux" })).status).toBe(400)
  const unknown = await t.json("POST", "/api/v1/agents", { role: "astronaut" })
  expect(unknown.status).toBe(404)
  expect((unknown.body as ErrorBody).error.message).toContain("no role named astronaut")

  const spawned = await Promise.all([1, 2, 3].map(() => t.json("POST", "/api/v1/agents", { role: "frontend" })))
  expect(spawned.map((s) => s.status)).toEqual([201, 201, 201])
  const full = await t.json("POST", "/api/v1/agents", { role: "frontend" })
  expect(full.status).toBe(409)
  expect((full.body as ErrorBody).error).toMatchObject({ code: "pool_full", hint: expect.stringContaining("agents.max_agents") })
  const taken = await t.json("POST", "/api/v1/agents", { role: "frontend", id: spawned[0]!.body.id })
  expect(taken.status).toBe(409)
  for (const s of spawned) await t.json("POST", `/api/v1/agents/${s.body.id}/stop`)

  const pool = t.daemon.ctx.pool as unknown as { o: { claudePath: string } }
  const original = pool.o.claudePath
  pool.o.claudePath = await fakeClaude(t.tmp.path, "echo 'invalid x-api-key' >&2\nexit 1")
  try {
    const failed = await t.json("POST", "/api/v1/agents", { role: "security" })
    expect(failed.status).toBe(502)
    const e = (failed.body as ErrorBody).error
    expect(e.code).toBe("agent_start_failed")
    expect(e.message).toContain("invalid x-api-key")
    expect(e.details?.lastOutput).toContain("invalid x-api-key")
  } finally {
    pool.o.claudePath = original
  }
})

test("a role whose agents keep failing is degraded in health, status and workloads, and refused with 503", async () => {
  const pool = t.daemon.ctx.pool as unknown as { o: { claudePath: string } }
  const original = pool.o.claudePath
  pool.o.claudePath = await fakeClaude(t.tmp.path, "exit 7")
  try {
    for (let i = 0; i < 3; i++) expect((await t.json("POST", "/api/v1/agents", { role: "coordinator" })).status).toBe(502)
    const refused = await t.json("POST", "/api/v1/agents", { role: "coordinator" })
    expect(refused.status).toBe(503)
    expect((refused.body as ErrorBody).error.code).toBe("role_degraded")
  } finally {
    pool.o.claudePath = original
  }
  const health = await t.json("GET", "/api/v1/health")
  expect(health.status).toBe(200)
  expect(health.body.status).toBe("degraded")
  expect(health.body.checks.pool).toMatchObject({ state: "degraded", degradedRoles: [expect.objectContaining({ role: "coordinator" })] })
  expect((await t.json("GET", "/api/v1/status")).body.pool.degradedRoles[0].role).toBe("coordinator")
  const w = await t.json("GET", "/api/v1/workloads")
  expect(w.body.roles.coordinator).toMatchObject({ agents: 0, degraded: true })
  expect(w.body.pool.roles).toContainEqual(expect.objectContaining({ role: "coordinator", state: "degraded", circuit: "open" }))
})

test("remote agents are listed beside local ones; pool actions on them are 409; attach needs a pty agent and a WebSocket", async () => {
  await t.agent("remote-1", "observer", {})
  const bridge = new AcpClient({ url: t.daemon.acp, apiKey: t.key, agent: { agentId: "remote-1/mcp", role: "observer", capabilities: [BRIDGE_CAPABILITY] }, reconnect: false })
  await bridge.connect()
  const list = await t.json("GET", "/api/v1/agents")
  expect(list.body.items).toContainEqual(expect.objectContaining({ id: "remote-1", kind: "remote", status: "idle" }))
  expect(list.body.items.map((a: { id: string }) => a.id)).not.toContain("remote-1/mcp") // an agent's MCP bridge is no agent
  await bridge.close()
  expect((await t.json("GET", "/api/v1/workloads")).body.roles.observer).toMatchObject({ agents: 1, idle: 1 })
  const stop = await t.json("POST", "/api/v1/agents/remote-1/stop")
  expect(stop.status).toBe(409)
  expect((stop.body as ErrorBody).error.hint).toContain("cca worker")

  const a = await t.json("POST", "/api/v1/agents", { role: "qa" })
  const attach = await t.json("GET", `/api/v1/agents/${a.body.id}/attach`)
  expect(attach.status).toBe(409)
  expect((attach.body as ErrorBody).error.hint).toContain("--driver pty")
  const hook = await t.json("POST", `/api/v1/agents/${a.body.id}/hooks`, { hook_event_name: "Stop" })
  expect(hook.status).toBe(409)
  expect((await t.json("POST", `/api/v1/agents/${a.body.id}/hooks`, { nothing: 1 })).status).toBe(400)
  await t.json("POST", `/api/v1/agents/${a.body.id}/stop`)

  const doc = (await t.json("GET", "/api/v1/openapi.json")).body as { paths: Record<string, Record<string, unknown>> }
  for (const [path, method] of [["/api/v1/agents", "post"], ["/api/v1/agents/{id}/stop", "post"], ["/api/v1/agents/{id}", "delete"], ["/api/v1/agents/{id}/logs", "get"], ["/api/v1/agents/{id}/send", "post"], ["/api/v1/agents/{id}/attach", "get"], ["/api/v1/agents/{id}/hooks", "post"]] as const) {
    expect({ path, method, listed: Boolean(doc.paths[path]?.[method]) }).toEqual({ path, method, listed: true })
  }
  for (const id of ["x"]) expect((await t.req("GET", `/api/v1/agents/${id}/attach`, { key: null })).status).toBe(401)
})

test("an agent's MCP server reaches the daemon with the URL and key from its environment, never from its command line or a file", async () => {
  const pool = t.daemon.ctx.pool as unknown as { o: { mcpCommand: string[] | null } }
  pool.o.mcpCommand = [process.execPath, SOURCE_MAIN]
  let id = ""
  try {
    const a = await t.json("POST", "/api/v1/agents", { role: "backend" })
    expect(a.status).toBe(201)
    id = a.body.id
  } finally {
    pool.o.mcpCommand = null
  }
  const pid = (await t.json("GET", `/api/v1/agents/${id}`)).body.pid as number
  const env = Object.fromEntries(readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]))
  expect(env.CCA_DAEMON_URL).toBe(t.daemon.http)
  expect(env.CCA_ACP_URL).toBe(t.daemon.acp)
  const key = env.CCA_API_KEY!
  expect(key).toMatch(/^cca_[0-9a-f]+_/)
  expect(key).not.toBe(t.key)

  // The key is on no command line (claude's or its MCP server's) and in no file of the agent's state dir.
  const tree = [pid, ...children(pid)]
  expect(tree.length).toBeGreaterThan(1)
  for (const p of tree) expect(readFileSync(`/proc/${p}/cmdline`, "utf8")).not.toContain(key)
  const mcpChild = tree.find((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").includes("mcp"))!
  expect(readFileSync(`/proc/${mcpChild}/cmdline`, "utf8").split("\0").filter(Boolean).slice(-5)).toEqual(["mcp", "--agent", id, "--role", "backend"])
  const stateDir = join(t.tmp.path, "agents", id)
  // claude rewrites its files through temporary ones renamed into place: one listed can be gone when read
  const text = (f: string) => {
    try {
      return readFileSync(f, "latin1")
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return ""
      throw e
    }
  }
  for (const f of filesUnder(stateDir)) expect({ f, leaks: text(f).includes(key) }).toEqual({ f, leaks: false })
  expect(readFileSync(join(t.tmp.path, "daemon.log"), "utf8")).not.toContain(key)

  // The real Claude Code calls cca_agents through that server; the daemon answers it (it lists the agent itself).
  const r = await t.json("POST", `/api/v1/agents/${id}/send`, { message: "who is here" })
  expect(r.body.result.text).toStartWith("agents tool said:")
  expect(r.body.result.text).toContain(id)
  expect(r.body.result.text).not.toContain("unauthorized")
  await t.json("POST", `/api/v1/agents/${id}/stop`)
})

function children(pid: number): number[] {
  const out: number[] = []
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8")
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
      if (ppid === pid) out.push(Number(name), ...children(Number(name)))
    } catch {}
  }
  return out
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name))
    .filter((f) => !readlinkSafe(f))
}

function readlinkSafe(f: string): boolean {
  try {
    readlinkSync(f)
    return true
  } catch {
    return false
  }
}
