import { describe, expect, test } from "bun:test"
import { AcpClient, type AcpClientHandlers } from "../../src/acp/client"
import { ManualClock } from "../../src/acp/clock"
import { RpcError } from "../../src/acp/errors"
import { ErrorCode, type AgentMessageNotice, type BroadcastNotice, type DelegateParams } from "../../src/acp/protocol"
import { NotFoundError } from "../../src/errors"
import { KEY, captureLogger, deferred, startServer, until, type TestServer } from "./support"

async function agent(s: TestServer, agentId: string, role: string, handlers: AcpClientHandlers = {}): Promise<AcpClient> {
  const c = new AcpClient({ url: s.url, apiKey: KEY, agent: { agentId, role }, handlers, clock: new ManualClock(), reconnect: false, log: captureLogger().log })
  await c.connect()
  return c
}

/** Agents that record every broadcast they get. */
async function listeners(s: TestServer, roles: Record<string, string>) {
  const got: Record<string, BroadcastNotice[]> = {}
  const clients: AcpClient[] = []
  for (const [id, role] of Object.entries(roles)) {
    got[id] = []
    clients.push(await agent(s, id, role, { broadcast: (n) => got[id]!.push(n) }))
  }
  return { got, clients, [Symbol.asyncDispose]: () => Promise.all(clients.map((c) => c.close())).then(() => undefined) }
}

describe("broadcast", () => {
  test("from the host: to all, then by role", async () => {
    await using s = await startServer()
    await using l = await listeners(s, { b1: "backend", b2: "backend", f1: "frontend" })
    expect(s.server.broadcast({ message: "to all", data: { n: 1 } })).toBe(3)
    expect(s.server.broadcast({ message: "backend only", role: "backend" })).toBe(2)
    expect(s.server.broadcast({ message: "marker" })).toBe(3)
    await until(() => Object.values(l.got).every((g) => g.at(-1)?.message === "marker"), "the marker broadcast everywhere")
    expect(l.got.b1!.map((n) => n.message)).toEqual(["to all", "backend only", "marker"])
    expect(l.got.b2!.map((n) => n.message)).toEqual(["to all", "backend only", "marker"])
    // Frames on one connection arrive in order, so f1 seeing the marker right after "to all" proves it never got the role broadcast.
    expect(l.got.f1!.map((n) => n.message)).toEqual(["to all", "marker"])
    expect(l.got.b1![0]).toEqual({ from: "server", message: "to all", data: { n: 1 } })
  })

  test("from an agent: everyone else of the role gets it, the host can observe", async () => {
    const seen: string[] = []
    await using s = await startServer({ hooks: { onBroadcast: (a, p) => seen.push(`${a.agentId}:${p.message}`) } })
    await using l = await listeners(s, { b1: "backend", b2: "backend", f1: "frontend" })
    expect(await l.clients[0]!.broadcast({ message: "hi backends", role: "backend" })).toEqual({ recipients: 1 })
    expect(await l.clients[0]!.broadcast({ message: "hi all" })).toEqual({ recipients: 2 })
    await until(() => l.got.f1!.length === 1 && l.got.b2!.length === 2, "both broadcasts")
    expect(l.got.b2!.map((n) => [n.from, n.message])).toEqual([["b1", "hi backends"], ["b1", "hi all"]])
    expect(l.got.f1!.map((n) => n.message)).toEqual(["hi all"])
    expect(l.got.b1).toEqual([])
    expect(seen).toEqual(["b1:hi backends", "b1:hi all"])
  })
})

describe("agent.message", () => {
  test("routes one agent's message to another; an absent addressee is -32003", async () => {
    const observed: AgentMessageNotice[] = []
    await using s = await startServer({ hooks: { onMessage: (_from, m) => observed.push(m) } })
    const inbox = deferred<AgentMessageNotice>()
    await using a = await agent(s, "a", "backend")
    await using b = await agent(s, "b", "qa", { message: (m) => inbox.resolve(m) })
    expect(await a.message("b", "please review", { pr: 7 })).toEqual({ delivered: true })
    expect(await inbox.promise).toEqual({ from: "a", to: "b", message: "please review", data: { pr: 7 } })
    expect(observed).toHaveLength(1)
    const err = (await a.message("ghost", "hello?").catch((e: unknown) => e)) as RpcError
    expect(err).toBeInstanceOf(RpcError)
    expect(err.rpcCode).toBe(ErrorCode.agentNotFound)
    expect(b.state).toBe("ready")
  })

  test("the host can message an agent too", async () => {
    await using s = await startServer()
    const inbox = deferred<AgentMessageNotice>()
    await using b = await agent(s, "b", "qa", { message: (m) => inbox.resolve(m) })
    expect(s.server.message({ to: "b", message: "from the daemon" })).toBe(true)
    expect(s.server.message({ to: "nobody", message: "x" })).toBe(false)
    expect(await inbox.promise).toMatchObject({ from: "server", to: "b", message: "from the daemon" })
  })
})

describe("agent.delegate", () => {
  test("the host hook creates the child task; with wait it answers with the outcome", async () => {
    const calls: [string, DelegateParams][] = []
    await using s = await startServer({
      hooks: {
        onDelegate: async (a, p) => {
          calls.push([a.agentId, p])
          const taskId = `child-${calls.length}`
          return p.wait ? { taskId, result: { taskId, status: "completed", output: `did: ${p.prompt}` } } : { taskId }
        },
      },
    })
    await using c = await agent(s, "lead", "coordinator")
    expect(await c.delegate({ prompt: "write tests", role: "qa" })).toEqual({ taskId: "child-1" })
    expect(await c.delegate({ prompt: "fix bug", wait: true, timeoutMs: 60_000 })).toEqual({ taskId: "child-2", result: { taskId: "child-2", status: "completed", output: "did: fix bug" } })
    expect(calls.map(([a, p]) => [a, p.prompt, p.role, p.wait])).toEqual([
      ["lead", "write tests", "qa", false],
      ["lead", "fix bug", undefined, true],
    ])
  })

  test("a named error from the hook reaches the agent as -32000 with its code and hint", async () => {
    await using s = await startServer({
      hooks: {
        onDelegate: async () => {
          throw new NotFoundError("no agent has role zzz", { hint: "use one of: backend, qa" })
        },
      },
    })
    await using c = await agent(s, "lead", "coordinator")
    const err = (await c.delegate({ prompt: "x", role: "zzz" }).catch((e: unknown) => e)) as RpcError
    expect(err.rpcCode).toBe(ErrorCode.application)
    expect(err.data).toEqual({ code: "not_found", hint: "use one of: backend, qa" })
  })

  test("a waiting delegation is aborted when the caller disconnects", async () => {
    const aborted = deferred<void>()
    const started = deferred<void>()
    await using s = await startServer({
      hooks: {
        onDelegate: (_a, _p, signal) => {
          started.resolve()
          signal.addEventListener("abort", () => aborted.resolve())
          return new Promise(() => {})
        },
      },
    })
    const c = await agent(s, "lead", "coordinator")
    const pending = c.delegate({ prompt: "long", wait: true }).catch((e: unknown) => e)
    await started.promise
    await c.close()
    await aborted.promise
    expect((await pending as Error).name).toBe("acp_connection_closed")
  })

  test("without a delegation hook the server answers -32004", async () => {
    await using s = await startServer()
    await using c = await agent(s, "lead", "coordinator")
    const err = (await c.delegate({ prompt: "x" }).catch((e: unknown) => e)) as RpcError
    expect(err.rpcCode).toBe(ErrorCode.unavailable)
  })
})
