import { describe, expect, test } from "bun:test"
import { AcpClient, type AcpClientHandlers } from "../../src/acp/client"
import { ManualClock } from "../../src/acp/clock"
import { AcpAgentUnavailableError, AcpConnectionClosedError, AcpTimeoutError } from "../../src/acp/errors"
import { CloseCode, ErrorCode } from "../../src/acp/protocol"
import type { AgentInfo } from "../../src/acp/registry"
import { KEY, OTHER_KEY, RawSocket, captureLogger, deferred, startServer, until, type TestServer } from "./support"

const HB = 30_000

async function agent(s: TestServer, agentId: string, role = "backend", handlers: AcpClientHandlers = {}): Promise<AcpClient> {
  const c = new AcpClient({ url: s.url, apiKey: KEY, agent: { agentId, role, capabilities: ["ts"] }, handlers, clock: new ManualClock(), reconnect: false, log: captureLogger().log })
  await c.connect()
  return c
}

describe("register and heartbeat", () => {
  test("register answers with the server's settings and lists the agent", async () => {
    await using s = await startServer()
    const sock = await RawSocket.open(s.url)
    const r = await sock.register("a1", "backend", { host: "box-1", version: "1.2.3" })
    expect(r.result).toEqual({ agentId: "a1", heartbeatIntervalMs: HB, maxFrameBytes: 1024 * 1024, serverTime: s.clock.now() })
    const info = s.server.agent("a1")!
    expect(info).toMatchObject({ role: "backend", capabilities: ["ts"], host: "box-1", version: "1.2.3", health: "healthy", connected: true, principalId: "alice" })
    expect(s.server.status().agents).toMatchObject({ total: 1, healthy: 1, byRole: { backend: { healthy: 1, unhealthy: 0, disconnected: 0 } } })
    s.clock.advance(5000)
    const hb = await sock.call("heartbeat", { status: "busy", load: 0.5 }, 2)
    expect(hb.result.serverTime).toBe(s.clock.now())
    expect(s.server.agent("a1")).toMatchObject({ lastHeartbeatAt: s.clock.now(), status: "busy", load: 0.5 })
    await sock.close()
  })

  test("methods other than register and health_check need a registration", async () => {
    await using s = await startServer()
    const sock = await RawSocket.open(s.url)
    for (const [method, params] of [["heartbeat", {}], ["broadcast", { message: "x" }], ["agent.message", { to: "b", message: "x" }]] as const) {
      const r = await sock.call(method, params, method)
      expect(r.error?.code).toBe(ErrorCode.notRegistered)
    }
    expect((await sock.call("health_check", {}, 9)).result).toMatchObject({ status: "ok", agents: 0 })
    await sock.close()
  })

  test("three missed heartbeats mark the agent unhealthy and hand back its tasks; a heartbeat brings it back", async () => {
    const unhealthy: [AgentInfo, string[], string][] = []
    const healthy: string[] = []
    await using s = await startServer({ hooks: { onUnhealthy: (a, t, r) => unhealthy.push([a, t, r]), onHealthy: (a) => healthy.push(a.agentId) } })
    const sock = await RawSocket.open(s.url)
    await sock.register("a1", "backend", { taskIds: ["t1"] })
    await using c = await agent(s, "a2", "qa", { taskAssign: () => ({ accepted: true }) })
    expect(await s.server.assignTask("a2", { taskId: "t2", prompt: "p" })).toEqual({ accepted: true })

    s.clock.advance(2 * HB)
    await sock.call("heartbeat", {}, 2) // a1 stays alive, a2 goes silent
    s.clock.advance(HB - 1) // a2 silent for 3 intervals less 1 ms
    expect(unhealthy).toEqual([])
    s.clock.advance(Math.floor(HB / 3)) // the next sweep finds it overdue
    expect(unhealthy.map(([a, t, r]) => [a.agentId, t, r])).toEqual([["a2", ["t2"], "missed_heartbeats"]])
    expect(s.server.agent("a2")).toMatchObject({ health: "unhealthy", connected: true, taskIds: [] })
    expect(s.server.status().agents).toMatchObject({ healthy: 1, unhealthy: 1 })
    expect(s.lines.some((l) => l.includes("agent a2 is unhealthy"))).toBe(true)

    s.clock.advance(2 * HB)
    expect(unhealthy.map(([a]) => a.agentId)).toEqual(["a2", "a1"])
    expect(unhealthy[1]![1]).toEqual(["t1"])
    await sock.call("heartbeat", {}, 3)
    expect(healthy).toEqual(["a1"])
    expect(s.server.agent("a1")?.health).toBe("healthy")
    await sock.close()
  })

  test("a disconnected agent keeps its tasks while it may return; gone for good, it is forgotten and its tasks handed back", async () => {
    const events: string[] = []
    await using s = await startServer({
      hooks: {
        onDisconnect: (a, code) => events.push(`disconnect ${a.agentId} ${code}`),
        onUnhealthy: (a, t, r) => events.push(`unhealthy ${a.agentId} ${t.join(",")} ${r}`),
        onTasksLost: (a, t) => events.push(`lost ${a.agentId} ${t.join(",")}`),
      },
    })
    const back = await RawSocket.open(s.url)
    await back.register("returns", "backend", { taskIds: ["t1", "t2"] })
    const gone = await RawSocket.open(s.url)
    await gone.register("vanishes", "backend", { taskIds: ["t3"] })
    await back.close()
    await gone.close()
    await until(() => events.length === 2, "both disconnects")
    expect(events.sort()).toEqual(["disconnect returns 1005", "disconnect vanishes 1005"])
    expect(s.server.agent("returns")).toMatchObject({ connected: false, health: "healthy", taskIds: ["t1", "t2"] })

    s.clock.advance(HB)
    const again = await RawSocket.open(s.url)
    await again.register("returns", "backend", { taskIds: ["t1"] }) // it finished t2 offline and lost it: t2 must be requeued
    expect(events).toContain("lost returns t2")
    s.clock.advance(2 * HB + HB / 3)
    expect(events).toContain("unhealthy vanishes t3 disconnected")
    expect(s.server.agent("vanishes")).toBeUndefined()
    expect(s.server.agent("returns")).toMatchObject({ connected: true, health: "healthy", taskIds: ["t1"] })
    await again.close()
  })

  test("the same agent on a new connection replaces the old one; another key cannot take its id", async () => {
    await using s = await startServer()
    const first = await RawSocket.open(s.url)
    await first.register("a1")
    const intruder = await RawSocket.open(s.url, { headers: { Authorization: `Bearer ${OTHER_KEY}` } })
    const refused = await intruder.call("agent.register", { agentId: "a1", role: "backend" })
    expect(refused.error?.code).toBe(ErrorCode.agentIdInUse)
    const second = await RawSocket.open(s.url)
    await second.register("a1")
    expect((await first.closed).code).toBe(CloseCode.superseded)
    expect(s.server.agent("a1")?.connected).toBe(true)
    const twice = await second.call("agent.register", { agentId: "other", role: "x" }, 7)
    expect(twice.error?.code).toBe(ErrorCode.invalidRequest)
    await Promise.all([intruder.close(), second.close()])
  })

  test("onRegister can refuse an agent with a named error", async () => {
    const { ConflictError } = await import("../../src/errors")
    await using s = await startServer({ hooks: { onRegister: (a) => { if (a.role === "banned") throw new ConflictError("role banned is not allowed", { hint: "use another role" }) } } })
    const sock = await RawSocket.open(s.url)
    const r = await sock.call("agent.register", { agentId: "x", role: "banned" })
    expect(r.error).toMatchObject({ code: ErrorCode.application, message: "role banned is not allowed", data: { code: "conflict", hint: "use another role" } })
    expect(s.server.agent("x")).toBeUndefined()
    await sock.close()
  })
})

describe("tasks", () => {
  test("task_assign round trip, progress, result, and tracking", async () => {
    const progress: unknown[] = []
    const results: unknown[] = []
    await using s = await startServer({ hooks: { onProgress: (a, p) => progress.push([a.agentId, p]), onTaskResult: (a, o) => void results.push([a.agentId, o]) } })
    const offered: unknown[] = []
    await using c = await agent(s, "w1", "backend", { taskAssign: (t) => (offered.push(t), t.prompt === "no" ? { accepted: false, reason: "busy" } : { accepted: true }) })

    expect(await s.server.assignTask("w1", { taskId: "t1", prompt: "build it", role: "backend", metadata: { n: 1 } })).toEqual({ accepted: true })
    expect(offered).toEqual([{ taskId: "t1", prompt: "build it", role: "backend", metadata: { n: 1 } }])
    expect(await s.server.assignTask("w1", { taskId: "t2", prompt: "no" })).toEqual({ accepted: false, reason: "busy" })
    expect(s.server.agent("w1")?.taskIds).toEqual(["t1"])
    expect(c.runningTasks).toEqual(["t1"])

    c.progress({ taskId: "t1", percent: 50, message: "half" })
    await until(() => progress.length === 1, "progress")
    expect(progress[0]).toEqual(["w1", { taskId: "t1", percent: 50, message: "half" }])
    expect(await c.result({ taskId: "t1", status: "completed", output: "done", tokens: { input: 10, output: 20 }, durationMs: 5 })).toEqual({ recorded: true })
    expect(results).toEqual([["w1", { taskId: "t1", status: "completed", output: "done", tokens: { input: 10, output: 20 }, durationMs: 5 }]])
    expect(s.server.agent("w1")?.taskIds).toEqual([])
    expect(c.runningTasks).toEqual([])
  })

  test("a failing result hook answers with an error and the task stays tracked", async () => {
    await using s = await startServer({
      hooks: {
        onTaskResult: () => {
          throw new Error("store unavailable")
        },
      },
    })
    await using c = await agent(s, "w1", "backend", { taskAssign: () => ({ accepted: true }) })
    await s.server.assignTask("w1", { taskId: "t1", prompt: "p" })
    const err = (await c.result({ taskId: "t1", status: "failed", error: "x" }).catch((e: unknown) => e)) as { rpcCode: number }
    expect(err.rpcCode).toBe(ErrorCode.internalError)
    expect(s.server.agent("w1")?.taskIds).toEqual(["t1"])
    expect(c.runningTasks).toEqual(["t1"])
    expect(s.lines.some((l) => l.includes("task_result failed") && l.includes("store unavailable"))).toBe(true)
  })

  test("assignTask fails by name: unknown agent, timeout, disconnect", async () => {
    await using s = await startServer({ requestTimeoutMs: 5000 })
    await expect(s.server.assignTask("nobody", { taskId: "t", prompt: "p" })).rejects.toBeInstanceOf(AcpAgentUnavailableError)

    const hang = deferred<{ accepted: boolean }>()
    const c = await agent(s, "slow", "backend", { taskAssign: () => hang.promise })
    const timedOut = s.server.assignTask("slow", { taskId: "t1", prompt: "p" })
    s.clock.advance(5000)
    await expect(timedOut).rejects.toBeInstanceOf(AcpTimeoutError)
    expect(s.server.agent("slow")?.taskIds).toEqual([])

    const cut = s.server.assignTask("slow", { taskId: "t2", prompt: "p" }).catch((e: unknown) => e)
    await c.close()
    expect(await cut).toBeInstanceOf(AcpConnectionClosedError)
  })

  test("cancelTask tells the agent and stops tracking", async () => {
    await using s = await startServer()
    const cancelled = deferred<unknown>()
    await using c = await agent(s, "w1", "backend", { taskAssign: () => ({ accepted: true }), taskCancel: (p) => cancelled.resolve(p) })
    await s.server.assignTask("w1", { taskId: "t1", prompt: "p" })
    expect(s.server.cancelTask("w1", "t1", "user asked")).toBe(true)
    expect(await cancelled.promise).toEqual({ taskId: "t1", reason: "user asked" })
    expect(s.server.agent("w1")?.taskIds).toEqual([])
    expect(c.state).toBe("ready")
  })

  test("server-side health_check asks the agent", async () => {
    await using s = await startServer()
    await using c = await agent(s, "w1", "backend", { taskAssign: () => ({ accepted: true }) })
    expect(await s.server.healthCheck("w1")).toEqual({ status: "ok", taskIds: [] })
    await s.server.assignTask("w1", { taskId: "t9", prompt: "p" })
    expect(await s.server.healthCheck("w1")).toEqual({ status: "busy", taskIds: ["t9"] })
    expect(await c.healthCheck()).toMatchObject({ status: "ok", agents: 1 })
  })
})
