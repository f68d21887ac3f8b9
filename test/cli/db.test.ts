import { expect, test } from "bun:test"
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { MIGRATIONS } from "../../src/store/migrations"
import { binary, cli } from "../support/cli"
import { tmpdir } from "../support/tmpdir"

// `cca db` runs the embedded store inside the compiled binary: the WASM,
// the file system bundle, pgvector and the migrations all come from the
// binary itself, even when it is moved away from the checkout.

function homeEnv(root: string): Record<string, string> {
  return { HOME: root, XDG_DATA_HOME: join(root, "data"), XDG_CONFIG_HOME: join(root, "config"), XDG_CACHE_HOME: join(root, "cache") }
}

async function run(bin: string, args: string[], cwd: string, env: Record<string, string>) {
  const proc = Bun.spawn([bin, ...args], { cwd, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe", timeout: 120_000 })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr, json: () => JSON.parse(stdout) }
}

test("db status on a fresh machine reports pending migrations and creates nothing", async () => {
  await using tmp = await tmpdir()
  const r = await cli(["db", "status", "--json"], { name: "cca", env: homeEnv(tmp.path) })
  expect(r.code).toBe(0)
  const env = r.json()
  expect(env.kind).toBe("DbStatus")
  expect(env.data).toMatchObject({ engine: "pglite", initialised: false, location: join(tmp.path, "data", "cca", "pg"), pgvector: null })
  expect(env.data.migrations.map((m: { state: string }) => m.state)).toEqual(MIGRATIONS.map(() => "pending"))
  expect(existsSync(join(tmp.path, "data", "cca", "pg"))).toBe(false)
})

test("a binary moved away from the checkout migrates the embedded store with pgvector", { timeout: 180_000 }, async () => {
  await using tmp = await tmpdir()
  const bin = join(tmp.path, "bin", "cca")
  mkdirSync(join(tmp.path, "bin"))
  copyFileSync(binary("scc"), bin)
  const env = homeEnv(join(tmp.path, "home"))

  const migrated = await run(bin, ["db", "migrate", "--json"], tmp.path, env)
  expect(migrated.stderr).toBe("")
  expect(migrated.code).toBe(0)
  const m = migrated.json()
  expect(m.kind).toBe("DbMigrate")
  expect(m.data.applied).toEqual(MIGRATIONS.map((x) => x.name))
  expect(m.data.pgvector).toMatch(/^0\.\d+\.\d+$/)
  // The extension loader reads real files only: the embedded tarball was copied out.
  expect(readdirSync(join(tmp.path, "home", "data", "cca", "pglite")).some((f) => /^vector-\d+\.tar\.gz$/.test(f))).toBe(true)

  const status = await run(bin, ["db", "status", "--json"], tmp.path, env)
  expect(status.code).toBe(0)
  const s = status.json()
  expect(s.data.initialised).toBe(true)
  expect(s.data.migrations.map((x: { state: string }) => x.state)).toEqual(MIGRATIONS.map(() => "applied"))
  expect(s.status.warnings).toEqual([])

  const human = await run(bin, ["db", "status"], tmp.path, env)
  expect(human.stdout).toMatch(/0002_vectors +applied/)
  expect((await run(bin, ["db", "migrate", "--json"], tmp.path, env)).json().data.applied).toEqual([])
})

test("a store held by a running process is refused with exit 5 and a hint", async () => {
  await using tmp = await tmpdir()
  const env = homeEnv(tmp.path)
  const pg = join(tmp.path, "data", "cca", "pg")
  mkdirSync(pg, { recursive: true })
  writeFileSync(`${pg}.lock`, JSON.stringify({ pid: process.pid })) // this test process is alive
  const r = await cli(["db", "migrate", "--json"], { name: "cca", env })
  expect(r.code).toBe(5)
  const err = r.json().status.errors[0]
  expect(err.code).toBe("unavailable")
  expect(err.message).toContain(`in use by process ${process.pid}`)
  expect(err.hint).toContain("cca daemon")
})

test("postgres.url pointing nowhere is a network error (exit 3) that names the host, not the password", async () => {
  await using tmp = await tmpdir()
  const r = await cli(["db", "status", "--json"], { name: "cca", env: { ...homeEnv(tmp.path), CCA__POSTGRES__URL: "postgres://cca:hunter2@127.0.0.1:1/cca" } })
  expect(r.code).toBe(3)
  const err = r.json().status.errors[0]
  expect(err.code).toBe("network")
  expect(err.message).toContain("127.0.0.1:1/cca")
  expect(r.stdout + r.stderr).not.toContain("hunter2")
})
