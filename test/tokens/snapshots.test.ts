import { afterAll, beforeAll, expect, test } from "bun:test"
import { Redis } from "ioredis"
import type { TaskAssignParams } from "../../src/acp/protocol"
import { contextKey, CONTEXT_TTL_S, RETRY_OPEN } from "../../src/tokens/snapshots"
import { startRedis, type RedisServer } from "../support/redis"
import { signal, taskEvent, testDaemon, type TestDaemon } from "../daemon/harness"

// Context snapshots on a real daemon (PGlite, a throwaway redis-server, real
// ACP agents over a WebSocket): an agent reports progress on a task and is
// lost; the task goes to another agent, whose prompt starts with a compact
// summary of what was already done; the whole context is stored zstd-
// compressed in context_snapshots and under cca:agent:{id}:context (TTL 1 h).

let redis: RedisServer
let t: TestDaemon
let client: Redis
beforeAll(async () => {
  redis = await startRedis()
  t = await testDaemon({ redis: { url: redis.url } })
  client = new Redis(redis.url)
}, 60_000)
afterAll(async () => {
  client?.disconnect()
  await t?.[Symbol.asyncDispose]()
  await redis?.close()
})

test("a task retried on another agent goes on from a summary of what the lost agent did", async () => {
  const first = signal<TaskAssignParams>()
  const a = await t.agent("ctx-a", "ctx", { taskAssign: (p) => (first.resolve(p), { accepted: true }) })
  const { body } = await t.json("POST", "/api/v1/tasks", { description: "Migrate the orders table to the new schema", role: "ctx", maxAttempts: 3 })
  const id = body.id as string
  expect((await first.promise).prompt).toBe("Migrate the orders table to the new schema") // a first attempt: nothing added
  await taskEvent(t, id, "accepted")
  const steps = ["wrote migration 0042_orders.sql", "ran it on the staging copy: 1.2M rows moved", "started updating the ORM models"]
  for (const [i, m] of steps.entries()) {
    const seen = taskEvent(t, id, "progress")
    a.progress({ taskId: id, percent: 20 * (i + 1), message: m })
    await seen
  }
  const requeued = taskEvent(t, id, "requeued")
  await a.close() // the agent is lost
  await requeued

  const second = signal<TaskAssignParams>()
  const b = await t.agent("ctx-b", "ctx", { taskAssign: (p) => (second.resolve(p), { accepted: true }) })
  const offered = await second.promise
  expect(offered.taskId).toBe(id)
  expect(offered.prompt).toStartWith(RETRY_OPEN)
  expect(offered.prompt).toEndWith("\n\nMigrate the orders table to the new schema")
  expect(offered.prompt).toContain("Attempt 1 (agent ctx-a): started the work; requeued")
  expect(offered.prompt).toContain("agent_disconnected")
  for (const m of steps) expect(offered.prompt).toContain(`  - ${m}`)

  // stored: the summary in content, the whole context zstd-compressed
  const rows = await t.daemon.ctx.store.sql.query<{ id: string; agent_id: string; content: string; codec: string; data: Uint8Array; bytes: number; token_count: number }>(
    "SELECT id, agent_id, content, codec, data, bytes, token_count FROM context_snapshots WHERE task_id = $1",
    [id],
  )
  expect(rows).toHaveLength(1)
  const row = rows[0]!
  expect(row).toMatchObject({ agent_id: "ctx-a", codec: "zstd" })
  const context = Buffer.from(Bun.zstdDecompressSync(Buffer.from(row.data))).toString()
  expect(context.length).toBe(row.bytes)
  expect(context).toContain("## attempt 1 on agent ctx-a")
  for (const m of steps) expect(context).toContain(`progress: ${m}`)
  expect(offered.prompt.startsWith(row.content)).toBe(true)
  expect(row.token_count).toBeGreaterThan(0)

  // and in Redis under the lost agent's key, for an hour
  const ttl = await client.ttl(contextKey("ctx-a"))
  expect(ttl).toBeGreaterThan(CONTEXT_TTL_S - 60)
  expect(ttl).toBeLessThanOrEqual(CONTEXT_TTL_S)
  const cached = JSON.parse((await client.get(contextKey("ctx-a")))!) as { id: string; data: string; codec: string }
  expect(cached.id).toBe(row.id)
  expect(Buffer.from(Bun.zstdDecompressSync(Buffer.from(cached.data, "base64"))).toString()).toBe(context)

  // read back: Redis first, the database when Redis no longer holds it
  const snapshots = (t.daemon.ctx as unknown as { snapshots?: unknown }).snapshots
  expect(snapshots).toBeUndefined() // not on the context: the stage owns its store
  const { SnapshotStore } = await import("../../src/tokens/snapshots")
  const store = new SnapshotStore({ db: t.daemon.ctx.store.sql, redis: client, estimator: () => t.daemon.ctx.tokens.estimator() })
  expect(await store.latest("ctx-a")).toMatchObject({ id: row.id, from: "redis", context })
  await client.del(contextKey("ctx-a"))
  expect(await store.latest("ctx-a")).toMatchObject({ id: row.id, from: "database", context, summary: row.content })

  // the retry's note is on the accepted event
  const done = taskEvent(t, id, "completed")
  await b.result({ taskId: id, status: "completed", output: "finished the ORM models" })
  await done
  const acc = (await t.daemon.ctx.store.events.list(id)).filter((e) => e.type === "accepted")
  expect(acc).toHaveLength(2)
  expect(acc[0]!.data.prompt).toBeUndefined()
  expect(acc[1]!.data).toMatchObject({ agentId: "ctx-b", prompt: { retry_context: { snapshot: row.id, from_agent: "ctx-a" } } })
  await b.close()
})
