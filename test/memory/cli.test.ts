import { afterAll, beforeAll, expect, test } from "bun:test"
import { join } from "node:path"
import { cli } from "../support/cli"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { homeEnv } from "../e2e/daemon-process"
import { testDaemon, type TestDaemon } from "../daemon/harness"

// `cca memory ...` (the compiled binary) against a real daemon on a port:
// store, search, list, show, export to JSONL, import it back (merging),
// delete, reembed; `cca task create --no-memory` marks the task.

let t: TestDaemon
let tmp: TmpDir
let env: Record<string, string>

beforeAll(async () => {
  tmp = await tmpdir({ prefix: "memory-cli-" })
  t = await testDaemon({ embeddings: { provider: "hash" } })
  env = { ...homeEnv(tmp.path), CCA_DAEMON_URL: t.daemon.ctx.addresses().http, CCA_API_KEY: t.key }
}, 60_000)

afterAll(async () => {
  await t?.[Symbol.asyncDispose]()
  await tmp?.[Symbol.asyncDispose]()
})

const cca = (...args: string[]) => cli(args, { name: "cca", env })

test("store, search, list, show, export, import, delete, reembed", async () => {
  const s = await cca("memory", "store", "Pin the lockfile and run the install with --frozen-lockfile in CI.", "--title", "Reproducible installs", "--kind", "solution", "--json")
  expect(s.code).toBe(0)
  const id = s.json().data.id as string
  const bad = await cca("memory", "store", "x", "--kind", "magic")
  expect(bad.code).toBe(2)
  expect(bad.stderr).toContain("kind: must be one of solution")
  const found = await cca("memory", "search", "make CI installs reproducible", "--json")
  expect(found.json().data.patterns[0]).toMatchObject({ id, title: "Reproducible installs" })
  expect((await cca("memory", "search", "make CI installs reproducible")).stdout).toMatch(new RegExp(`^\\d\\.\\d{3}  ${id}  solution`))
  expect((await cca("memory", "list")).stdout).toContain("Reproducible installs")
  expect((await cca("memory", "show", id)).stdout).toContain("Pin the lockfile")
  const file = join(tmp.path, "memory.jsonl")
  expect((await cca("memory", "export", "--out", file)).code).toBe(0)
  const lines = (await Bun.file(file).text()).trim().split("\n")
  expect(lines.map((l) => JSON.parse(l).id)).toEqual([id])
  const imp = await cca("memory", "import", file, "--json")
  expect(imp.json().data).toEqual({ created: 0, merged: 1 })
  const re = await cca("memory", "reembed", "--json")
  expect(re.json().data).toMatchObject({ status: "completed", done: 0, model: "hash:fh1" })
  expect((await cca("memory", "delete", id)).stdout).toContain(`deleted ${id}`)
  const gone = await cca("memory", "show", id)
  expect(gone.code).toBe(1)
  expect(gone.stderr).toContain(`no pattern ${id}`)
})

test("task create --no-memory marks the task so memory neither feeds nor reads it", async () => {
  const r = await cca("task", "create", "Tidy the changelog", "--no-memory", "--json")
  expect(r.code).toBe(0)
  const task = await t.daemon.ctx.store.tasks.get(r.json().data.id)
  expect(task?.metadata).toMatchObject({ memory: false })
  const plain = await cca("task", "create", "Tidy the changelog again", "--json")
  expect((await t.daemon.ctx.store.tasks.get(plain.json().data.id))?.metadata.memory).toBeUndefined()
})

test("cca status shows memory: its state, pattern count and model", async () => {
  await cca("memory", "store", "Read the daemon log before restarting it.", "--title", "Logs first")
  const r = await cca("status")
  expect(r.code).toBe(0)
  // test daemons run with the loop off; the routes still work, so memory is "off" with its patterns counted
  expect(r.stdout).toMatch(/memory:\s+off: \d+ patterns, hash:fh1 hybrid hnsw/)
  const j = (await cca("status", "--json")).json().data.memory
  expect(j).toMatchObject({ state: "off", provider: "hash", model: "hash:fh1", errors: 0 })
  expect(j.patterns).toBeGreaterThan(0)
})
