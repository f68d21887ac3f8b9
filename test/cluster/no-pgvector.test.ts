import { afterAll, beforeAll, expect, test } from "bun:test"
import { createDatabase, startPostgres, type PostgresServer } from "../support/postgres"
import { testDaemon, type TestDaemon } from "../daemon/harness"

// A daemon on a real PostgreSQL without pgvector (Debian's 15 here): it
// starts with a warning, names the features that are off in its status, and
// runs tasks as usual.

let pg: PostgresServer
let d: TestDaemon
beforeAll(async () => {
  pg = await startPostgres()
  d = await testDaemon({ postgres: { url: await createDatabase(pg, "daemon_novector"), pool: 2 } })
}, 120_000)
afterAll(async () => {
  await d?.[Symbol.asyncDispose]()
  await pg?.close()
})

test("the daemon starts with a warning naming what is off, and its status says so", async () => {
  const warning = d.daemon.warnings.find((w) => w.includes("pgvector"))
  expect(warning).toContain("has no pgvector extension: memory off")
  expect(warning).toContain("install pgvector")
  const status = await d.json("GET", "/api/v1/status")
  expect(status.body.store).toMatchObject({ engine: "postgres", pgvector: null, vectors: { available: false, off: ["memory"] } })
  expect(status.body.store.vectors.hint).toContain("pgvector/pgvector")
  expect(d.daemon.ctx.store.vectors.available).toBe(false) // what the memory and code routes read
})

test("tasks work as usual without pgvector", async () => {
  const created = await d.json("POST", "/api/v1/tasks", { description: "no vectors needed", role: "nobody" })
  expect(created.status).toBe(202)
  const got = await d.json("GET", `/api/v1/tasks/${created.body.id}`)
  expect(got.body).toMatchObject({ status: "pending", role: "nobody" })
})
