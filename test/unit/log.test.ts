import { expect, test } from "bun:test"
import { existsSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { cli } from "../support/cli"
import { tmpdir } from "../support/tmpdir"

// Log files are appended by every process of a kind and rotated by size; each
// process kind has its own file. Real processes, real files.

const WRITER = join(import.meta.dir, "..", "support", "log-writer.ts")

function run(home: string, args: string[], extra: Record<string, string> = {}) {
  return Bun.spawn([process.execPath, WRITER, ...args], { env: { ...process.env, XDG_DATA_HOME: home, SCC_LOG_LEVEL: "silent", ...extra }, stdout: "ignore", stderr: "pipe" })
}

function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean) : []
}

test("two processes writing the same log at once: every line of both survives, whole", async () => {
  await using data = await tmpdir()
  const a = run(data.path, ["cli", "alpha", "300"])
  const b = run(data.path, ["cli", "beta", "300"])
  expect([await a.exited, await b.exited]).toEqual([0, 0])
  const got = lines(join(data.path, "cca", "logs", "cli.log"))
  expect(got).toHaveLength(600)
  for (const tag of ["alpha", "beta"]) {
    const mine = got.filter((l) => l.includes(`[${tag}] ${tag} line `))
    expect(mine.map((l) => Number(l.split(" line ")[1]!.split(" ")[0]))).toEqual([...Array(300).keys()]) // in order, none torn
  }
  // A later process appends; it does not start the file again.
  expect(await run(data.path, ["cli", "gamma", "1"]).exited).toBe(0)
  expect(lines(join(data.path, "cca", "logs", "cli.log"))).toHaveLength(601)
})

test("rotation at the size: .1, .2, .3 keep the older lines; with two writers none is lost", async () => {
  await using data = await tmpdir()
  const max = 4000
  const env = { CCA_LOG_MAX_BYTES: String(max) }
  const a = run(data.path, ["daemon", "alpha", "60"], env)
  const b = run(data.path, ["daemon", "beta", "60"], env)
  expect([await a.exited, await b.exited]).toEqual([0, 0])
  const base = join(data.path, "cca", "logs", "daemon.log")
  const files = [base, `${base}.1`, `${base}.2`, `${base}.3`]
  expect(existsSync(`${base}.1`)).toBe(true)
  const lineBytes = readFileSync(`${base}.1`, "utf8").split("\n")[0]!.length + 1
  for (const f of files.filter(existsSync)) expect(statSync(f).size).toBeLessThan(max + 2 * lineBytes) // full, then rotated
  expect(existsSync(`${base}.4`)).toBe(false)
  const all = files.flatMap(lines)
  expect(all.filter((l) => l.includes("[alpha]"))).toHaveLength(60)
  expect(all.filter((l) => l.includes("[beta]"))).toHaveLength(60)
  expect(existsSync(join(data.path, "cca", "logs", "cli.log"))).toBe(false) // a daemon writes daemon.log only
})

test("the compiled binary: each `cca mcp` appends to mcp.log, and the CLI's own log is untouched by it", async () => {
  await using data = await tmpdir()
  const env = { XDG_DATA_HOME: data.path }
  const first = await cli(["mcp"], { name: "cca", env })
  const second = await cli(["mcp"], { name: "cca", env })
  expect([first.code, second.code]).toEqual([0, 0])
  const mcpLog = lines(join(data.path, "cca", "logs", "mcp.log"))
  expect(mcpLog.filter((l) => l.includes("mcp server starting"))).toHaveLength(2)
  expect(mcpLog.filter((l) => l.includes("mcp server stopped"))).toHaveLength(2)
  expect(existsSync(join(data.path, "cca", "logs", "cli.log"))).toBe(false)
})
