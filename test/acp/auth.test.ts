import { describe, expect, test } from "bun:test"
import { AcpClient } from "../../src/acp/client"
import { ManualClock } from "../../src/acp/clock"
import { UnauthorizedError } from "../../src/errors"
import { KEY, RawSocket, captureLogger, rawHandshake, startServer } from "./support"

describe("ACP handshake auth", () => {
  test("no key or a wrong key: 401 with an error body and no upgrade", async () => {
    await using s = await startServer()
    const attempts: Record<string, string>[] = [{}, { Authorization: "Bearer nope" }, { "X-API-Key": "nope" }]
    for (const headers of attempts) {
      const r = await rawHandshake(s.server.port, headers)
      expect(r.status).toBe(401)
      expect(r.head.toLowerCase()).not.toContain("upgrade: websocket")
      const body = JSON.parse(r.body)
      expect(body.error.code).toBe("unauthorized")
      expect(body.error.hint).toContain("Authorization: Bearer")
    }
    expect(s.server.status().rejectedHandshakes).toBe(3)
    expect(s.server.status().connections).toBe(0)
    expect(s.lines.join("\n")).not.toContain("nope")
  })

  test("the key is accepted from each documented place", async () => {
    await using s = await startServer()
    const port = s.server.port
    for (const [headers, path] of [
      [{ Authorization: `Bearer ${KEY}` }, "/"],
      [{ "X-API-Key": KEY }, "/"],
      [{ "Sec-WebSocket-Protocol": `acp.v1, acp.bearer.${KEY}` }, "/"],
      [{}, `/?token=${KEY}`],
    ] as const) {
      const r = await rawHandshake(port, headers, path)
      expect(r.status).toBe(101)
    }
  })

  test("a browser-style client offering acp.v1 gets it selected", async () => {
    await using s = await startServer()
    const sock = await RawSocket.open(s.url, { protocols: ["acp.v1", `acp.bearer.${KEY}`] })
    expect(sock.ws.protocol).toBe("acp.v1")
    const r = await sock.register("browser-agent")
    expect(r.result.agentId).toBe("browser-agent")
    expect(s.server.agent("browser-agent")?.principalId).toBe("alice")
    await sock.close()
  })

  test("authenticate sees the key; its principal is the agent's", async () => {
    const seen: (string | null)[] = []
    await using s = await startServer({ authenticate: (key) => (seen.push(key), key === "k-123456" ? { id: "p-1", name: "ci" } : null) })
    const sock = await RawSocket.open(s.url, { headers: { "X-API-Key": "k-123456" } })
    await sock.register("a1")
    expect(seen).toEqual(["k-123456"])
    expect(s.server.agent("a1")?.principalId).toBe("p-1")
    await sock.close()
  })

  test("a throwing key store answers 503, not a crash", async () => {
    await using s = await startServer({
      authenticate: () => {
        throw new Error("db down")
      },
    })
    const r = await rawHandshake(s.server.port, { Authorization: `Bearer ${KEY}` })
    expect(r.status).toBe(503)
    expect(JSON.parse(r.body).error.code).toBe("unavailable")
  })

  test("plain HTTP gets 426", async () => {
    await using s = await startServer()
    const r = await fetch(s.url.replace("ws://", "http://"))
    expect(r.status).toBe(426)
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("upgrade_required")
  })

  test("the client library reports a refused key as UnauthorizedError", async () => {
    await using s = await startServer()
    const c = new AcpClient({ url: s.url, apiKey: "wrong-key", agent: { agentId: "x", role: "qa" }, clock: new ManualClock(), log: captureLogger().log })
    const err = await c.connect().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UnauthorizedError)
    expect(c.state).toBe("closed")
  })
})
