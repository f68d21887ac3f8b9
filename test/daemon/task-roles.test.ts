import { afterAll, beforeAll, expect, test } from "bun:test"
import { testDaemon, type TestDaemon } from "./harness"

// A task for a role that no agent has and none may start is refused at create
// (400 naming the field, with the known roles) instead of waiting forever.
// Known: the built-in roles, role files the pool may start, tasks.roles, and
// the roles of live agents and of remote agents seen before.

let t: TestDaemon
beforeAll(async () => {
  t = await testDaemon({ tasks: { roles: ["planned"] } })
}, 60_000)
afterAll(async () => {
  await t[Symbol.asyncDispose]()
})

type ErrorBody = { error: { code: string; message: string; hint?: string; details: { field: string; knownRoles: string[] } } }

test("a role nobody has is a 400 naming the field and the known roles", async () => {
  const r = await t.json<ErrorBody>("POST", "/api/v1/tasks", { description: "lost work", role: "nobody-knows" })
  expect(r.status).toBe(400)
  expect(r.body.error.details.field).toBe("role")
  expect(r.body.error.message).toStartWith("role: no agent has role \"nobody-knows\"")
  expect(r.body.error.details.knownRoles).toEqual(expect.arrayContaining(["backend", "coordinator", "frontend", "planned", "qa", "security"]))
  expect(r.body.error.details.knownRoles).not.toContain("nobody-knows")
  expect(r.body.error.hint).toContain("[tasks] roles")
  expect((await t.json("GET", "/api/v1/tasks?role=nobody-knows")).body.items).toEqual([])
})

test("built-in roles, tasks.roles and roles without a name are accepted", async () => {
  expect((await t.json("POST", "/api/v1/tasks", { description: "fix the API", role: "backend" })).status).toBe(202)
  expect((await t.json("POST", "/api/v1/tasks", { description: "later", role: "planned" })).status).toBe(202)
  expect((await t.json("POST", "/api/v1/tasks", { description: "anything at all" })).status).toBe(202)
})

test("a remote agent's role is known while it is connected and after it left (its worker may come back)", async () => {
  expect((await t.json("POST", "/api/v1/tasks", { description: "far work", role: "far-role" })).status).toBe(400)
  const agent = await t.agent("far-1", "far-role", { taskAssign: () => ({ accepted: false, reason: "busy" }) })
  expect((await t.json("POST", "/api/v1/tasks", { description: "far work", role: "far-role" })).status).toBe(202)
  await agent.close()
  expect((await t.json("POST", "/api/v1/tasks", { description: "far work again", role: "far-role" })).status).toBe(202)
})
