import { expect, test } from "bun:test"
import { writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { UnavailableError } from "../../src/errors"
import { loadDaemonId } from "../../src/store/daemons"
import { openPglite } from "../../src/store/pglite"
import { openStore } from "../../src/store/store"
import { tmpdir } from "../support/tmpdir"

// The embedded engine on disk: persistence, the data-dir lock, a SIGKILL
// mid-task, and one-statement-at-a-time.

test("data survives close and reopen; a reopen has nothing to migrate", { timeout: 120_000 }, async () => {
  await using tmp = await tmpdir()
  const dataDir = join(tmp.path, "pg")
  const first = await openStore({ dataDir })
  expect(first.engine).toBe("pglite")
  expect(first.location).toBe(dataDir)
  expect(first.pgvector).toMatch(/^\d+\.\d+/)
  expect(first.migrated?.applied.length).toBeGreaterThan(0)
  const { task } = await first.tasks.create({ description: "persist me" })
  await first.close()

  const again = await openStore({ dataDir })
  try {
    expect(again.migrated?.applied).toEqual([])
    expect((await again.tasks.get(task.id))?.description).toBe("persist me")
    expect(await again.health()).toMatchObject({ state: "ok", engine: "pglite" })
  } finally {
    await again.close()
  }
})

test("a data dir in use is refused with the holder's pid; free again after close; a dead holder's lock is taken over", { timeout: 120_000 }, async () => {
  await using tmp = await tmpdir()
  const dataDir = join(tmp.path, "pg")
  const held = await openPglite({ dataDir })
  try {
    const err = await openPglite({ dataDir }).catch((e) => e)
    expect(err).toBeInstanceOf(UnavailableError)
    expect(err.exitCode).toBe(5)
    expect(err.message).toContain(`in use by process ${process.pid}`)
    expect(err.hint).toContain("cca daemon")
  } finally {
    await held.close()
  }
  // A lock left behind by a process that no longer exists.
  const dead = Bun.spawnSync(["true"]).pid
  writeFileSync(`${dataDir}.lock`, JSON.stringify({ pid: dead, host: hostname() }))
  const reopened = await openPglite({ dataDir })
  await reopened.close()
  // One left by an earlier process that had this very pid (pid 1 in a restarted container).
  writeFileSync(`${dataDir}.lock`, JSON.stringify({ pid: process.pid, host: hostname() }))
  const again = await openPglite({ dataDir })
  await again.close()
  // One from another host cannot be checked: refused, with the way out.
  writeFileSync(`${dataDir}.lock`, JSON.stringify({ pid: 1, host: "elsewhere" }))
  const other = await openPglite({ dataDir }).catch((e) => e)
  expect(other).toBeInstanceOf(UnavailableError)
  expect(other.hint).toContain(`remove ${dataDir}.lock`)
})

test("a process SIGKILLed mid-task loses nothing: the task is still there, running, and recoverOrphans requeues it", { timeout: 180_000 }, async () => {
  await using tmp = await tmpdir()
  const dataDir = join(tmp.path, "pg")
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "fixtures", "claim-and-hang.ts"), dataDir], { stdout: "pipe", stderr: "pipe", env: process.env })
  const reader = child.stdout.getReader()
  let out = ""
  while (!out.includes("\n")) {
    const { done, value } = await reader.read()
    if (done) throw new Error(`fixture exited before READY: ${out}${await new Response(child.stderr).text()}`)
    out += new TextDecoder().decode(value)
  }
  const taskId = /READY (\S+)/.exec(out)?.[1]
  expect(taskId).toBeDefined()
  child.kill("SIGKILL")
  await child.exited

  const store = await openStore({ dataDir })
  try {
    expect(await store.tasks.get(taskId!)).toMatchObject({ status: "running", ownerDaemon: "daemon-x", agentId: "agent-x", progress: 0.3 })
    const [recovered] = await store.tasks.recoverOrphans("daemon-x")
    expect(recovered?.task).toMatchObject({ id: taskId, status: "pending", attempts: 1 })
    expect((await store.events.list(taskId!)).map((e) => e.type)).toEqual(["created", "claimed", "progress", "requeued"])
    expect((await store.tasks.claimNext({ owner: "daemon-x" }))?.task.id).toBe(taskId!)
  } finally {
    await store.close()
  }
})

test("PGlite runs one statement at a time: a query from outside waits for an open transaction to end", { timeout: 120_000 }, async () => {
  const sql = await openPglite()
  try {
    await sql.exec("CREATE TABLE t (x int)")
    let outerDone = false
    let inserted!: () => void
    const insertedP = new Promise<void>((r) => (inserted = r))
    const tx = sql.transaction(async (q) => {
      await q.query("INSERT INTO t VALUES (1)")
      inserted()
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r)) // give the outer query every chance to run
      expect(outerDone).toBe(false)
      await q.query("INSERT INTO t VALUES (2)")
    })
    await insertedP
    const outer = sql.query<{ n: number }>("SELECT count(*)::int AS n FROM t").then((rows) => {
      outerDone = true
      return rows[0]!.n
    })
    await tx
    expect(await outer).toBe(2) // it ran after the commit, and saw both rows
  } finally {
    await sql.close()
  }
})

test("loadDaemonId: made once, then the same on every call; another data dir has another id", async () => {
  await using tmp = await tmpdir()
  const a = loadDaemonId(join(tmp.path, "a"))
  expect(a).toMatch(/^[a-z0-9-]+-[0-9a-f]{8}$/)
  expect(loadDaemonId(join(tmp.path, "a"))).toBe(a)
  expect(await Bun.file(join(tmp.path, "a", "daemon-id")).text()).toBe(`${a}\n`)
  expect(loadDaemonId(join(tmp.path, "b"))).not.toBe(a)
})

test("server settings given at open apply, and PGlite's own start parameters are kept", { timeout: 60_000 }, async () => {
  const db = await openPglite({ settings: { shared_buffers: "256MB", work_mem: "16MB" } })
  try {
    const show = async (name: string) => Object.values((await db.query<Record<string, string>>(`SHOW ${name}`))[0]!)[0]
    expect(await show("shared_buffers")).toBe("256MB")
    expect(await show("work_mem")).toBe("16MB")
    expect(await show("search_path")).toBe("public")
  } finally {
    await db.close()
  }
})
