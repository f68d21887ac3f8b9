import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdir, symlink, unlink, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { testDaemon, type TestDaemon } from "../daemon/harness"
import { tmpdir, type TmpDir } from "../support/tmpdir"

// The code index through the HTTP API on a real daemon (PGlite): a job over
// a directory of Python's standard library files, search, stats; incremental
// re-indexing; the roots allowlist.

let t: TestDaemon
let root: TmpDir
let outside: TmpDir
const STDLIB = ["textwrap.py", "shlex.py", "fnmatch.py", "heapq.py", "bisect.py"]

beforeAll(async () => {
  root = await tmpdir({ prefix: "cca-code-root-" })
  outside = await tmpdir({ prefix: "cca-code-outside-" })
  await mkdir(join(root.path, "lib"))
  for (const f of STDLIB) await writeFile(join(root.path, "lib", f), await Bun.file(`/usr/lib/python3.11/${f}`).text())
  await writeFile(join(root.path, "notes.md"), "# Notes\nhow the wrapping works\nsecond line\n")
  await symlink(outside.path, join(root.path, "escape"))
  t = await testDaemon({ indexing: { roots: [root.path] }, embeddings: { provider: "hash" } })
}, 180_000)
afterAll(async () => {
  await t[Symbol.asyncDispose]()
  await root[Symbol.asyncDispose]()
  await outside[Symbol.asyncDispose]()
})

async function runJob(path: string) {
  const start = await t.json("POST", "/api/v1/code/index", { path })
  expect(start.status).toBe(202)
  // Progress as SSE until the job ends.
  const res = await t.req("GET", `/api/v1/code/index/${start.body.id}`, { headers: { accept: "text/event-stream" } })
  const text = await res.text()
  expect(text).toContain("event: done")
  const job = (await t.json("GET", `/api/v1/code/index/${start.body.id}`)).body
  expect(job.status).toBe("completed")
  return job
}

test("index a directory, then search finds functions by what they do, with lines and signals", async () => {
  const job = await runJob(root.path)
  // The five files, the notes, and the symlink, recorded as skipped with its reason.
  expect(job.files_total).toBe(STDLIB.length + 2)
  expect(job.files_skipped).toBe(1)
  expect(job.chunks).toBeGreaterThan(50)
  expect(job.errors).toEqual([])
  const r = await t.json("POST", "/api/v1/code/search", { query: "remove common leading whitespace from lines", limit: 5 })
  expect(r.status).toBe(200)
  const top = r.body.results[0]
  expect(top).toMatchObject({ path: "lib/textwrap.py", name: "dedent", kind: "function", signature: "def dedent(text)" })
  expect(top.end_line).toBeGreaterThan(top.start_line)
  expect(top.signals.lexical).toBeGreaterThan(0)
  const heap = await t.json("POST", "/api/v1/code/search", { query: "push item onto heap", kind: "function", path: "lib/heapq" })
  expect(heap.body.results[0].name).toBe("heappush")
  expect(heap.body.results.every((x: { path: string; kind: string }) => x.path === "lib/heapq.py" && x.kind === "function")).toBe(true)
  const stats = (await t.json("GET", "/api/v1/code/stats")).body
  expect(stats.roots[0]).toMatchObject({ root: root.path, files: STDLIB.length + 2, by_status: { indexed: STDLIB.length, lines: 1, skipped: 1 } })
  expect(stats.languages.python).toBeGreaterThan(50)
})

test("re-indexing skips unchanged files, re-chunks a changed one, removes a deleted one", async () => {
  await writeFile(join(root.path, "lib/bisect.py"), "def find_slot(xs, x):\n    \"\"\"Where x would go in sorted xs.\"\"\"\n    return 0\n")
  await unlink(join(root.path, "notes.md"))
  const job = await runJob(root.path)
  expect(job.files_unchanged).toBe(STDLIB.length - 1)
  expect(job.files_removed).toBe(1)
  const r = await t.json("POST", "/api/v1/code/search", { query: "find slot", limit: 3 })
  expect(r.body.results[0]).toMatchObject({ name: "find_slot", path: "lib/bisect.py" })
  const old = await t.json("POST", "/api/v1/code/search", { query: "insort", path: "lib/bisect" })
  expect(old.body.results).toEqual([])
})

test("roots: outside is refused with the reason, escaping symlinks and .. are not followed, missing is 404, bad fields 400", async () => {
  const out = await t.json("POST", "/api/v1/code/index", { path: outside.path })
  expect(out.status).toBe(403)
  expect(out.body.error.message).toContain("outside the allowed roots")
  const link = await t.json("POST", "/api/v1/code/index", { path: join(root.path, "escape") })
  expect(link.status).toBe(403)
  expect(link.body.error.message).toContain("through a symlink")
  const dots = await t.json("POST", "/api/v1/code/index", { path: `${root.path}/lib/../..` })
  expect(dots.status).toBe(403)
  expect((await t.json("POST", "/api/v1/code/index", { path: join(root.path, "nope") })).status).toBe(404)
  const bad = await t.json("POST", "/api/v1/code/index", {})
  expect(bad.status).toBe(400)
  expect(bad.body.error.details.field).toBe("path")
  const q = await t.json("POST", "/api/v1/code/search", { query: "x", limit: 0 })
  expect(q.body.error.details.field).toBe("limit")
  expect((await t.json("GET", "/api/v1/code/index/00000000-0000-0000-0000-000000000000")).status).toBe(404)
})
