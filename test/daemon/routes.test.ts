import { afterAll, beforeAll, expect, test } from "bun:test"
import { testDaemon, type TestDaemon } from "./harness"

// The HTTP API through app.handle (no port) on a real daemon: PGlite in a
// temp dir, in-process state, the ACP server on a free port.

let t: TestDaemon
beforeAll(async () => {
  t = await testDaemon({ daemon: { body_limit: 4096 } })
}, 60_000)
afterAll(async () => {
  await t[Symbol.asyncDispose]()
})

type ErrorBody = { error: { code: string; message: string; hint?: string; details?: { field?: string } } }

test("create returns 202 with the id and a Location; get, list and filters find it", async () => {
  const a = await t.json("POST", "/api/v1/tasks", { description: "build the parser", role: "backend", priority: 5, metadata: { ticket: 7 } })
  expect(a.status).toBe(202)
  expect(a.res.headers.get("location")).toBe(`/api/v1/tasks/${a.body.id}`)
  expect(a.body.task).toMatchObject({ id: a.body.id, status: "pending", role: "backend", priority: 5, description: "build the parser", source: "api", metadata: { ticket: 7 }, maxAttempts: 3 })
  const b = await t.json("POST", "/api/v1/tasks", { description: "style the page", role: "frontend", parentId: a.body.id })
  expect(b.body.task.parentId).toBe(a.body.id)

  const got = await t.json("GET", `/api/v1/tasks/${a.body.id}`)
  expect(got.status).toBe(200)
  expect(got.body.description).toBe("build the parser")
  expect(Number.isNaN(Date.parse(got.body.createdAt))).toBe(false)

  const backend = await t.json("GET", "/api/v1/tasks?role=backend")
  expect(backend.body.items.map((x: { id: string }) => x.id)).toEqual([a.body.id])
  const pending = await t.json("GET", "/api/v1/tasks?status=pending,running")
  expect(pending.body.items.length).toBeGreaterThanOrEqual(2)
  const children = await t.json("GET", `/api/v1/tasks?parentId=${a.body.id}`)
  expect(children.body.items.map((x: { id: string }) => x.id)).toEqual([b.body.id])
})

test("list pages with limit and cursor, newest first", async () => {
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push((await t.json("POST", "/api/v1/tasks", { description: `page ${i}`, role: "pager" })).body.id)
  const first = await t.json("GET", "/api/v1/tasks?role=pager&limit=2")
  expect(first.body.items.map((x: { id: string }) => x.id)).toEqual([ids[4], ids[3]])
  const second = await t.json("GET", `/api/v1/tasks?role=pager&limit=2&cursor=${first.body.nextCursor}`)
  expect(second.body.items.map((x: { id: string }) => x.id)).toEqual([ids[2], ids[1]])
  const last = await t.json("GET", `/api/v1/tasks?role=pager&limit=2&cursor=${second.body.nextCursor}`)
  expect(last.body.items.map((x: { id: string }) => x.id)).toEqual([ids[0]])
  expect(last.body.nextCursor).toBeNull()
  const offset = await t.json("GET", "/api/v1/tasks?role=pager&limit=2&offset=3")
  expect(offset.body.items.map((x: { id: string }) => x.id)).toEqual([ids[1], ids[0]])
})

test("cancel answers the cancelled task, then 409; unknown ids are 404", async () => {
  const { body } = await t.json("POST", "/api/v1/tasks", { description: "to cancel", role: "nobody" })
  const c = await t.json("POST", `/api/v1/tasks/${body.id}/cancel`, { reason: "changed my mind" })
  expect(c.status).toBe(200)
  expect(c.body.status).toBe("cancelled")
  expect(c.body.error.message).toBe("changed my mind")
  const again = await t.json("POST", `/api/v1/tasks/${body.id}/cancel`, {})
  expect(again.status).toBe(409)
  expect((again.body as ErrorBody).error.code).toBe("conflict")
  for (const id of ["01a1feb6-0000-7000-8000-000000000000", "not-a-uuid"]) {
    const r = await t.json("GET", `/api/v1/tasks/${id}`)
    expect(r.status).toBe(404)
    expect((r.body as ErrorBody).error).toMatchObject({ code: "not_found" })
    expect((r.body as ErrorBody).error.hint).toBeTruthy()
  }
  expect((await t.json("POST", "/api/v1/tasks", { description: "orphan", parentId: "01a1feb6-0000-7000-8000-000000000000" })).status).toBe(404)
})

test("validation failures are 400 naming the field path", async () => {
  const cases: [string, string, unknown, string][] = [
    ["POST", "/api/v1/tasks", { description: "" }, "body.description"],
    ["POST", "/api/v1/tasks", { description: "x", role: "Not A Role" }, "body.role"],
    ["POST", "/api/v1/tasks", { description: "x", priority: 1.5 }, "body.priority"],
    ["POST", "/api/v1/tasks", { description: "x", surprise: true }, "body.surprise"],
    ["POST", "/api/v1/tasks", { role: "qa" }, "body.description"],
    ["GET", "/api/v1/tasks?limit=0", undefined, "query.limit"],
    ["GET", "/api/v1/tasks?limit=abc", undefined, "query.limit"],
    ["GET", "/api/v1/tasks?status=done", undefined, "query.status"],
    ["POST", "/api/v1/broadcast", { message: 42 }, "body.message"],
  ]
  for (const [method, path, body, field] of cases) {
    const r = await t.json(method, path, body)
    expect({ path, status: r.status }).toEqual({ path, status: 400 })
    const e = (r.body as ErrorBody).error
    expect(e.code).toBe("validation")
    expect(e.details?.field).toStartWith(field)
    expect(e.message).toStartWith(`${field}`)
  }
})

test("a body that is not JSON is 400; one over the body limit is 413", async () => {
  const bad = await t.req("POST", "/api/v1/tasks", { body: "{not json", headers: { "content-type": "application/json" } })
  expect(bad.status).toBe(400)
  expect(((await bad.json()) as ErrorBody).error.code).toBe("invalid_body")
  const big = await t.req("POST", "/api/v1/tasks", { body: { description: "x".repeat(5000) } })
  expect(big.status).toBe(413)
  const e = ((await big.json()) as ErrorBody).error
  expect(e.code).toBe("payload_too_large")
  expect(e.hint).toContain("daemon.body_limit")
})

test("unknown routes are 404 in the error shape", async () => {
  const r = await t.json("GET", "/api/v1/nothing-here")
  expect(r.status).toBe(404)
  expect((r.body as ErrorBody).error).toMatchObject({ code: "not_found" })
})

test("health reports each dependency; status counts tasks and agents", async () => {
  const h = await t.json("GET", "/api/v1/health")
  expect(h.body.status).toBe("ok")
  expect(h.body.checks.store).toMatchObject({ state: "ok", engine: "pglite" })
  expect(h.body.checks.state).toMatchObject({ state: "ok", backend: "memory" })
  expect(h.body.checks.acp.state).toBe("ok")
  const s = await t.json("GET", "/api/v1/status")
  expect(s.body.daemon.id).toBe(t.daemon.daemonId)
  expect(s.body.tasks.pending).toBeGreaterThan(0)
  expect(s.body.agents).toMatchObject({ total: 0, idle: 0 })
  expect(s.body.store.engine).toBe("pglite")
})

test("agents, workloads, activity, broadcast and acp status reflect a connected agent", async () => {
  const agent = await t.agent("routes-agent", "observer", {})
  const list = await t.json("GET", "/api/v1/agents")
  expect(list.body.items).toContainEqual(expect.objectContaining({ id: "routes-agent", role: "observer", status: "idle", health: "healthy", connected: true }))
  expect((await t.json("GET", "/api/v1/agents/routes-agent")).body.role).toBe("observer")
  expect((await t.json("GET", "/api/v1/agents/nobody")).status).toBe(404)
  expect((await t.json("GET", "/api/v1/agents?role=other")).body.items).toEqual([])
  expect((await t.json("GET", "/api/v1/workloads")).body.roles.observer).toEqual({ agents: 1, idle: 1, busy: 0, unhealthy: 0, degraded: false })

  const heard = new Promise<unknown>((resolve) => agent["opts"].handlers!.broadcast = resolve)
  const b = await t.json("POST", "/api/v1/broadcast", { message: "hello agents", role: "observer" })
  expect(b.body).toEqual({ recipients: 1, remote: 1, local: 0 })
  expect(await heard).toMatchObject({ from: "api", message: "hello agents" })

  const acp = await t.json("GET", "/api/v1/acp/status")
  expect(acp.body.connections).toBeGreaterThanOrEqual(1)
  const activity = await t.json("GET", "/api/v1/activity?limit=3")
  expect(activity.body.items.length).toBe(3)
  expect(activity.body.items[0].id).toBeGreaterThan(activity.body.items[2].id)
})

test("the OpenAPI document parses, lists every route, and documents bodies and parameters", async () => {
  const r = await t.req("GET", "/api/v1/openapi.json")
  const doc = JSON.parse(await r.text())
  expect(doc.openapi).toBe("3.1.0")
  const documented = new Set<string>()
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) for (const m of Object.keys(ops)) documented.add(`${m.toUpperCase()} ${path}`)
  const routes = t.daemon.app.app.routes.map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`)
  expect(routes.length).toBeGreaterThan(25)
  for (const route of routes) expect(documented).toContain(route)
  const create = doc.paths["/api/v1/tasks"].post
  expect(create.requestBody.content["application/json"].schema.required).toEqual(["description"])
  expect(create.requestBody.content["application/json"].schema.properties.priority).toMatchObject({ type: "integer", minimum: -1000, maximum: 1000 })
  expect(create.responses["202"]).toBeDefined()
  expect(doc.paths["/api/v1/tasks/{id}"].get.parameters).toContainEqual(expect.objectContaining({ name: "id", in: "path", required: true }))
  expect(doc.paths["/api/v1/tasks"].get.parameters.map((p: { name: string }) => p.name)).toContain("status")
  expect(doc.paths["/api/v1/health"].get.security).toEqual([])
  expect(doc.paths["/api/v1/status"].get.security).toContainEqual({ bearer: [] })
})

test("/metrics is Prometheus text with request counters by route pattern", async () => {
  await t.req("GET", "/api/v1/tasks/01a1feb6-0000-7000-8000-000000000001")
  await t.req("GET", "/api/v1/status", { key: null })
  const text = await (await t.req("GET", "/metrics")).text()
  expect(text).toContain("# TYPE cca_http_requests_total counter")
  expect(text).toMatch(/cca_http_requests_total\{method="GET",route="\/api\/v1\/tasks\/:id",status="404"\} \d+/)
  expect(text).toMatch(/cca_http_requests_total\{method="GET",route="\/api\/v1\/status",status="401"\} \d+/)
  expect(text).toMatch(/cca_http_requests_total\{method="GET",route="\(no route\)",status="404"\} \d+/)
  expect(text).toMatch(/cca_tasks\{status="pending"\} \d+/)
  expect(text).toContain('cca_http_request_duration_seconds_bucket{method="GET",route="/api/v1/tasks/:id",le="+Inf"}')
  for (const line of text.trim().split("\n")) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+)$/)
})
