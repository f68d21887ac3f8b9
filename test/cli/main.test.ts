import { expect, test } from "bun:test"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { cli } from "../support/cli"
import { tmpdir } from "../support/tmpdir"
import pkg from "../../package.json" with { type: "json" }

test("--version prints the package version under both names", async () => {
  for (const name of ["scc", "cca"] as const) {
    const r = await cli(["--version"], { name })
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe(pkg.version)
  }
})

test("help text uses the name the binary was called by", async () => {
  const scc = await cli(["--help"], { name: "scc" })
  const cca = await cli(["--help"], { name: "cca" })
  expect(scc.code).toBe(0)
  expect(scc.stdout).toContain("USAGE scc")
  expect(cca.stdout).toContain("USAGE cca")
  expect(cca.stdout).not.toContain("USAGE scc")
})

test("an unknown command is a usage error (exit 2) with a hint", async () => {
  const r = await cli(["no-such-command"])
  expect(r.code).toBe(2)
  expect(r.stdout).toBe("")
  expect(r.stderr).toContain("Unknown command no-such-command")
  expect(r.stderr).toContain("Try: scc --help")
})

test("--json prints exactly one envelope, also for errors", async () => {
  const ok = await cli(["version", "--json"], { name: "cca" })
  const env = ok.json()
  expect(env.apiVersion).toBe("scc.cli/v1")
  expect(env.kind).toBe("Version")
  expect(env.status).toEqual({ ok: true, errors: [], warnings: [] })
  expect(env.metadata.cliVersion).toBe(pkg.version)
  expect(Number.isNaN(Date.parse(env.metadata.generatedAt))).toBe(false)
  expect(env.data.version).toBe(pkg.version)

  const bad = await cli(["no-such-command", "--json"])
  expect(bad.code).toBe(2)
  const err = bad.json()
  expect(err.status.ok).toBe(false)
  expect(err.status.errors[0].code).toBe("usage")
})

test("the binary does not auto-load .env or bunfig.toml from its working directory", async () => {
  await using tmp = await tmpdir()
  // A bunfig preload that would print to stdout, and a .env that would set the program name.
  writeFileSync(join(tmp.path, "evil.ts"), 'console.log("PRELOADED")\n')
  writeFileSync(join(tmp.path, "bunfig.toml"), 'preload = ["./evil.ts"]\n')
  writeFileSync(join(tmp.path, ".env"), "SCC_PROG=cca\n")
  const r = await cli(["--help"], { cwd: tmp.path, name: "scc" })
  expect(r.code).toBe(0)
  expect(r.stdout).not.toContain("PRELOADED")
  expect(r.stdout).toContain("USAGE scc")
})
