// `bun run bench mcp [runs]`: what going through `cca mcp` costs. A tools/call
// round trip (the SDK's client over stdio -> the compiled `cca mcp` -> HTTP
// -> the compiled daemon) next to a direct HTTP request from this process to
// the same route (the floor), samples interleaved so drift hits both; and
// the server's start-up: spawn to the answer of `initialize`.
// Needs dist/ built (`bun run build`).
import { daemonEnv, startDaemon, startMcp, type McpSession } from "../../test/mcp/support"
import { printTable, stats, type Stats } from "./_lib"

const runs = Number(process.argv[2] ?? 500)
// Rate limits off: the bench sends far more than 100 requests a second on one key.
const d = await startDaemon({ env: { CCA__DAEMON__RATE_LIMIT_KEY_RPS: "0", CCA__DAEMON__RATE_LIMIT_IP_RPS: "0" } })
const mcp = await startMcp([], daemonEnv(d))

async function direct(method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(d.http + path, {
    method,
    headers: { authorization: `Bearer ${d.key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`)
  await res.arrayBuffer()
}

async function viaMcp(session: McpSession, name: string, args: Record<string, unknown>): Promise<void> {
  const r = await session.call(name, args)
  if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`)
}

/** Interleaved timings of two ways to do the same thing. */
async function pair(label: string, route: string, mcpCall: () => Promise<void>, httpCall: () => Promise<void>): Promise<void> {
  const a: number[] = []
  const b: number[] = []
  for (let i = 0; i < 50; i++) await Promise.all([mcpCall(), httpCall()]) // warm-up
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now()
    await mcpCall()
    a.push(performance.now() - t0)
    t0 = performance.now()
    await httpCall()
    b.push(performance.now() - t0)
  }
  const rows: Record<string, Stats> = { [`HTTP ${route} (floor)`]: stats(b), [`tools/call ${label}`]: stats(a) }
  printTable(`${label} -> ${route}, ${runs} runs each`, rows, `HTTP ${route} (floor)`)
}

try {
  const created = (await d.api("POST", "/api/v1/tasks", { description: "bench probe", role: "bench-nobody" })).body.id as string
  await pair("cca_agents", "GET /api/v1/agents", () => viaMcp(mcp, "cca_agents", {}), () => direct("GET", "/api/v1/agents"))
  await pair("cca_status {task_id}", "GET /api/v1/tasks/:id", () => viaMcp(mcp, "cca_status", { task_id: created }), () => direct("GET", `/api/v1/tasks/${created}`))
  await pair("cca_task", "POST /api/v1/tasks", () => viaMcp(mcp, "cca_task", { description: "bench task", role: "bench-nobody" }), () => direct("POST", "/api/v1/tasks", { description: "bench task", role: "bench-nobody" }))

  const starts: number[] = []
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now()
    const s = await startMcp([], daemonEnv(d))
    starts.push(performance.now() - t0)
    await s.close()
  }
  printTable("cca mcp start-up: spawn to the answer of initialize, 15 runs", { "cca mcp": stats(starts) })
} finally {
  await mcp.close()
  await d[Symbol.asyncDispose]()
}
