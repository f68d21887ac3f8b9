import { expect, test } from "bun:test"
import { readdirSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { appendLine, pruneLines } from "../../src/stats/append"
import { tmpdir } from "../support/tmpdir"

const WRITER = join(import.meta.dir, "writer.ts")

function startWriters(file: string, writers: number, lines: number) {
  return Array.from({ length: writers }, (_, id) =>
    Bun.spawn([process.execPath, WRITER, file, String(id), String(lines)], { stdout: "ignore", stderr: "pipe" }),
  )
}

async function finish(procs: ReturnType<typeof startWriters>): Promise<void> {
  for (const p of procs) {
    const code = await p.exited
    if (code !== 0) throw new Error(`writer exited ${code}: ${await new Response(p.stderr).text()}`)
  }
}

/** Every line parses, and each writer's lines are all there (once each after dropping duplicates). */
function checkLines(text: string, writers: number, lines: number): { total: number; unique: number } {
  const rows = text.split("\n").filter(Boolean)
  const seen = new Set<string>()
  for (const row of rows) {
    const o = JSON.parse(row) as { w: number; i: number; pad: string } // throws on an interleaved line
    expect(o.pad.length).toBe((o.i * 7919 + o.w * 104729) % 20000)
    seen.add(`${o.w}:${o.i}`)
  }
  for (let w = 0; w < writers; w++) for (let i = 0; i < lines; i++) if (!seen.has(`${w}:${i}`)) throw new Error(`line ${w}:${i} was lost`)
  return { total: rows.length, unique: seen.size }
}

test("many processes appending at once never interleave or lose a line", async () => {
  await using tmp = await tmpdir()
  const file = join(tmp.path, "usage.jsonl")
  const writers = 12
  const lines = 150
  await finish(startWriters(file, writers, lines))
  const { total, unique } = checkLines(await Bun.file(file).text(), writers, lines)
  expect(total).toBe(writers * lines)
  expect(unique).toBe(writers * lines)
  // The writers really ran at the same time: consecutive lines switch writers far more often than once per writer.
  const order = (await Bun.file(file).text()).split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { w: number }).w)
  const switches = order.filter((w, i) => i > 0 && w !== order[i - 1]).length
  expect(switches).toBeGreaterThan(writers * 2) // run one after another, they would switch writers - 1 times
  expect(statSync(file).mode & 0o777).toBe(0o600)
})

test("pruning while processes append loses no new line and drops every old one", async () => {
  await using tmp = await tmpdir()
  const file = join(tmp.path, "usage.jsonl")
  const old = Array.from({ length: 500 }, (_, i) => JSON.stringify({ old: true, i }))
  writeFileSync(file, `${old.join("\n")}\n`)
  const writers = 8
  const lines = 200
  const procs = startWriters(file, writers, lines)
  let prunes = 0
  let dropped = 0
  const running = Promise.all(procs.map((p) => p.exited))
  let done = false
  running.then(() => (done = true))
  while (!done) {
    // Each round re-seeds an old line so every prune really rewrites the file under the writers.
    appendLine(file, JSON.stringify({ old: true, i: -1 }))
    const r = pruneLines(file, (l) => l.includes('"old":true'))
    if (r && r.dropped > 0) {
      prunes++
      dropped += r.dropped
    }
    await new Promise((r) => setImmediate(r)) // let the writers' exit events in
  }
  await finish(procs)
  pruneLines(file, (l) => l.includes('"old":true'))
  const text = await Bun.file(file).text()
  expect(text).not.toContain('"old":true')
  const { unique } = checkLines(text, writers, lines)
  expect(unique).toBe(writers * lines)
  expect(prunes).toBeGreaterThan(1)
  expect(dropped).toBeGreaterThanOrEqual(500)
  expect(readdirSync(tmp.path)).toEqual(["usage.jsonl"]) // no temp or lock file left behind
})

test("a second pruner backs off while one holds the lock", async () => {
  await using tmp = await tmpdir()
  const file = join(tmp.path, "usage.jsonl")
  writeFileSync(file, "a\nb\n")
  writeFileSync(`${file}.prune-lock`, "")
  expect(pruneLines(file, () => true)).toBeNull()
  expect(await Bun.file(file).text()).toBe("a\nb\n")
})
