import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { CLAUDE, claudeEnv, SONNET } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import { pgliteMemory } from "../support/postgres"
import { servePgliteWire, type PgliteWire } from "../support/pglite-wire"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { testDaemon, type TestDaemon } from "../daemon/harness"
import { MEMORY_OPEN } from "../../src/memory/loop"
import type { PgliteSql } from "../../src/store/pglite"

// End to end with the real `claude` and the scripted model server, on PGlite
// and on PGlite served over the wire through postgres.js:
// 1. task 1 completes and a pattern exists whose source is task 1;
// 2. task 2 of the same family reaches the model with that pattern in its prompt;
// 3. task 2's outcome moves the pattern's counts;
// 4. a failed task leaves an error_recovery item.

const STRATEGY = "rotate one key at a time and check each service answers before the next"

for (const engine of ["pglite", "postgres.js over the wire"] as const) {
  describe(engine, () => {
    let t: TestDaemon
    let model: ModelServer
    let workspace: TmpDir
    let db: PgliteSql | undefined
    let wire: PgliteWire | undefined

    beforeAll(async () => {
      model = await startModelServer([
        { match: { lastUserText: /Rotate the API keys/ }, reply: { content: `Done: the keys are rotated.\nStrategy: ${STRATEGY}.` } },
        { match: { lastUserText: /Migrate the billing ledger/ }, reply: { content: "", error: { status: 400, type: "invalid_request_error", message: "scripted: the ledger migration breaks" } } },
      ])
      workspace = await tmpdir({ prefix: "memory-e2e-" })
      let postgres = {}
      if (engine !== "pglite") {
        db = await pgliteMemory()
        wire = await servePgliteWire(db.db)
        postgres = { url: wire.url, pool: 4 } // a real pool: test/support/pglite-wire.ts keeps each connection's statements whole
      }
      t = await testDaemon(
        { agents: { max_agents: 1 }, embeddings: { provider: "hash" }, memory: { enabled: true, min_similarity: 0.2 }, postgres },
        { pool: { claudePath: CLAUDE, model: SONNET, env: claudeEnv(model), mcpCommand: null, workspace: workspace.path, stateRoot: join(workspace.path, "agents") } },
      )
      await t.daemon.ctx.pool.spawn({ role: "backend" })
    }, 120_000)

    afterAll(async () => {
      await t?.[Symbol.asyncDispose]()
      await wire?.close()
      await db?.close()
      await model?.close()
      await workspace?.[Symbol.asyncDispose]()
    })

    async function run(description: string) {
      const o = t.daemon.ctx.orchestrator
      const { body } = await t.json("POST", "/api/v1/tasks", { description, role: "backend", maxAttempts: 1 })
      const done = await o.waitFor(body.id, 90_000)
      if (!done) throw new Error(`task "${description}" did not finish`)
      await o.flushEndHooks()
      return done
    }

    test("written from task 1, put into task 2's prompt, counted by its outcome; a failure leaves an error_recovery item", async () => {
      const t1 = await run("Rotate the API keys of the payments service")
      expect(t1.status).toBe("completed")
      const memory = t.daemon.ctx.memory
      const listed = (await memory.list({ limit: 50 })).patterns
      const mine = listed.filter((p) => p.source_task_ids.includes(t1.id))
      expect(mine.length).toBeGreaterThanOrEqual(1)
      const strategy = mine.find((p) => p.content.includes(STRATEGY))
      expect(strategy).toBeDefined()
      expect(strategy).toMatchObject({ success_count: 0, failure_count: 0, model: "hash:fh1" })

      const t2 = await run("Rotate the API keys of the search service")
      expect(t2.status).toBe("completed")
      const turn = model.turns().find((r) => r.conversation?.lastUserText?.includes("search service"))
      expect(turn?.conversation?.lastUserText).toContain(MEMORY_OPEN)
      expect(turn?.conversation?.lastUserText).toContain(STRATEGY)
      expect(t2.metadata.prompt).toMatchObject({ memory: { patterns: [{ id: strategy!.id }] } })
      const after = await memory.get(strategy!.id)
      expect(after).toMatchObject({ successCount: 1, failureCount: 0 })
      expect(await memory.repo.usesOf(t2.id)).toEqual([{ patternId: strategy!.id, similarity: expect.any(Number), outcome: "success" }])

      // memory off for one task: no block in its prompt, nothing written from it, no counts moved
      const offTask = (await t.json("POST", "/api/v1/tasks", { description: "Rotate the API keys of the mail service", role: "backend", maxAttempts: 1, metadata: { memory: false } })).body
      const off = await t.daemon.ctx.orchestrator.waitFor(offTask.id, 90_000)
      await t.daemon.ctx.orchestrator.flushEndHooks()
      expect(off?.status).toBe("completed")
      const offTurn = model.turns().find((r) => r.conversation?.lastUserText?.includes("mail service"))
      expect(offTurn?.conversation?.lastUserText).not.toContain(MEMORY_OPEN)
      expect((await memory.list({ limit: 50 })).patterns.filter((p) => p.source_task_ids.includes(off!.id))).toEqual([])
      expect(await memory.get(strategy!.id)).toMatchObject({ successCount: 1, failureCount: 0 })

      const t3 = await run("Migrate the billing ledger to the new schema")
      expect(t3.status).toBe("failed")
      const failed = (await memory.list({ limit: 50, kind: "error_recovery" })).patterns.filter((p) => p.source_task_ids.includes(t3.id))
      expect(failed).toHaveLength(1)
      expect(failed[0]!.content).toContain(`failed with ${t3.error!.code}`)
      expect(failed[0]!.title).toContain("Migrate the billing ledger")
    }, 240_000)
  })
}

describe("the agent distiller", () => {
  let t: TestDaemon
  let model: ModelServer
  let workspace: TmpDir

  beforeAll(async () => {
    model = await startModelServer([
      { match: { lastUserText: /^\[cca memory\] The task you just worked on has ended; it was completed/ }, reply: { content: '```json\n{"items":[{"kind":"testing","title":"Seed the fixture","description":"When a suite is flaky","content":"Freeze the clock and seed the random generator in the fixture."},{"content":""}]}\n```' } },
      { match: { lastUserText: /^\[cca memory\] The task you just worked on has ended; it failed/ }, reply: { content: '{"items":[{"kind":"solution","title":"Check the lock","description":"When a migration hangs","content":"Look for a lock held by another session before retrying."}]}' } },
      { match: { lastUserText: /^Make the checkout suite deterministic/ }, reply: { content: "Done." } },
      { match: { lastUserText: /^Run the stuck migration/ }, reply: { content: "", error: { status: 400, type: "invalid_request_error", message: "scripted: stuck" } } },
    ])
    workspace = await tmpdir({ prefix: "memory-e2e-agent-" })
    t = await testDaemon(
      { agents: { max_agents: 1 }, embeddings: { provider: "hash" }, memory: { enabled: true, distiller: "agent" } },
      { pool: { claudePath: CLAUDE, model: SONNET, env: claudeEnv(model), mcpCommand: null, workspace: workspace.path, stateRoot: join(workspace.path, "agents") } },
    )
    await t.daemon.ctx.pool.spawn({ role: "backend" })
  }, 120_000)

  afterAll(async () => {
    await t?.[Symbol.asyncDispose]()
    await model?.close()
    await workspace?.[Symbol.asyncDispose]()
  })

  test("one extra turn with the fixed prompt gives the items; a failed task's items are pitfalls whatever the model says", async () => {
    const o = t.daemon.ctx.orchestrator
    const ok = (await t.json("POST", "/api/v1/tasks", { description: "Make the checkout suite deterministic", role: "backend", maxAttempts: 1 })).body
    const done = await o.waitFor(ok.id, 90_000)
    expect(done?.status).toBe("completed")
    await o.flushEndHooks()
    const turn = model.turns().find((r) => r.conversation?.lastUserText?.startsWith("[cca memory]"))
    expect(turn?.conversation?.lastUserText).toContain('Answer with JSON only')
    const mine = (await t.daemon.ctx.memory.list({ limit: 20 })).patterns.filter((p) => p.source_task_ids.includes(ok.id))
    expect(mine.map((p) => [p.kind, p.title, p.metadata.distiller])).toEqual([["testing", "Seed the fixture", "agent"]])

    const bad = (await t.json("POST", "/api/v1/tasks", { description: "Run the stuck migration", role: "backend", maxAttempts: 1 })).body
    expect((await o.waitFor(bad.id, 90_000))?.status).toBe("failed")
    await o.flushEndHooks()
    const pit = (await t.daemon.ctx.memory.list({ limit: 20 })).patterns.filter((p) => p.source_task_ids.includes(bad.id))
    expect(pit.map((p) => [p.kind, p.title, p.metadata.distiller])).toEqual([["error_recovery", "Check the lock", "agent"]])
  }, 240_000)
})
