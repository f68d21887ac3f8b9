import { AGENT_HEADER } from "../../src/agent/hooks"
import type { TerminalAgent } from "../../src/agent/types"

// Stands in for the daemon's hook route: Claude Code's http hooks POST here;
// the server checks the bearer token, records the call and hands the body to
// the agent named in the x-cca-agent header.

export type HookCall = { agent: string; event: string; authorization: string | null; body: Record<string, unknown> }

export type HookServer = {
  url: string
  token: string
  calls: HookCall[]
  route(agent: TerminalAgent): void
  waitFor(pred: (c: HookCall) => boolean, timeoutMs?: number): Promise<HookCall>
  close(): Promise<void>
}

export async function startHookServer(token = `hook-${crypto.randomUUID()}`): Promise<HookServer> {
  const agents = new Map<string, TerminalAgent>()
  const calls: HookCall[] = []
  const waiters = new Set<{ pred: (c: HookCall) => boolean; resolve: (c: HookCall) => void }>()
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      if (req.method !== "POST") return new Response("method not allowed", { status: 405 })
      const authorization = req.headers.get("authorization")
      const body = (await req.json()) as Record<string, unknown>
      const call: HookCall = { agent: req.headers.get(AGENT_HEADER) ?? "", event: String(body.hook_event_name ?? ""), authorization, body }
      calls.push(call)
      for (const w of waiters) if (w.pred(call)) (waiters.delete(w), w.resolve(call))
      if (authorization !== `Bearer ${token}`) return Response.json({ error: "unauthorized" }, { status: 401 })
      await agents.get(call.agent)?.hook(body)
      return Response.json({})
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}/hooks`,
    token,
    calls,
    route: (agent) => void agents.set(agent.id, agent),
    waitFor(pred, timeoutMs = 30_000) {
      const found = calls.find(pred)
      if (found) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (c: HookCall) => (clearTimeout(t), resolve(c)) }
        const t = setTimeout(() => (waiters.delete(w), reject(new Error(`hook server: no matching call within ${timeoutMs} ms (saw ${calls.map((c) => c.event).join(", ") || "none"})`))), timeoutMs)
        waiters.add(w)
      })
    },
    close: () => server.stop(true),
  }
}
