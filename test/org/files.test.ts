import { expect, test } from "bun:test"
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { MAX_FILE_BYTES, readRegularFile } from "../../src/safe-read"
import { readStore } from "../../src/governance/exceptions-store"
import { loadProjectConfig, parseProjectConfig } from "../../src/org/project"
import { tmpdir } from "../support/tmpdir"

// Files a repository ships can hang scc or exhaust its memory (issue 15, probe item 6).

const mkfifo = (path: string) => expect(spawnSync("mkfifo", [path]).status).toBe(0)

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === "function" ? p() : p)
    return "(read)"
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`
  }
}

test("a FIFO .scc.yaml or .scc/exceptions.json is refused at once, naming what it is", async () => {
  await using tmp = await tmpdir()
  mkfifo(join(tmp.path, ".scc.yaml"))
  mkdirSync(join(tmp.path, ".scc"))
  mkfifo(join(tmp.path, ".scc", "exceptions.json"))
  const started = performance.now()
  expect(await refusal(loadProjectConfig(tmp.path))).toContain("is a named pipe (FIFO), where scc expects a regular file")
  expect(await refusal(readStore(join(tmp.path, ".scc", "exceptions.json"), new Date()))).toContain("is a named pipe (FIFO)")
  expect(performance.now() - started).toBeLessThan(5000) // it never blocked on the pipe
})

test("a symlink to /dev/zero is not read; a symlink to a regular file is", async () => {
  await using tmp = await tmpdir()
  symlinkSync("/dev/zero", join(tmp.path, ".scc.yaml"))
  expect(await refusal(loadProjectConfig(tmp.path))).toBe(`config: ${join(tmp.path, ".scc.yaml")} is a device, where scc expects a regular file`)
  writeFileSync(join(tmp.path, "real.yaml"), "additional_plugins: []\n")
  symlinkSync(join(tmp.path, "real.yaml"), join(tmp.path, "link.yaml"))
  expect(await readRegularFile(join(tmp.path, "link.yaml"))).toBe("additional_plugins: []\n")
})

test("a file over 1 MB is refused with a clear error, quickly and without reading it", async () => {
  await using tmp = await tmpdir()
  writeFileSync(join(tmp.path, ".scc.yaml"), "#".repeat(20 * 1024 * 1024))
  const started = performance.now()
  expect(await refusal(loadProjectConfig(tmp.path))).toContain("is larger than 1024 KB")
  expect(performance.now() - started).toBeLessThan(1000)
  writeFileSync(join(tmp.path, "ok"), "x".repeat(MAX_FILE_BYTES))
  expect((await readRegularFile(join(tmp.path, "ok")))?.length).toBe(MAX_FILE_BYTES)
})

test("a directory where a file should be is a named error; a missing file is none", async () => {
  await using tmp = await tmpdir()
  mkdirSync(join(tmp.path, "exceptions.json"))
  expect(await refusal(readStore(join(tmp.path, "exceptions.json"), new Date()))).toContain("is a directory, where scc expects a regular file")
  expect(await readRegularFile(join(tmp.path, "missing.json"))).toBeUndefined()
})

test("session.timeout_hours must be finite: 1e400 is refused", async () => {
  await using tmp = await tmpdir()
  expect(await refusal(parseProjectConfig("session:\n  timeout_hours: 1e400\n", join(tmp.path, ".scc.yaml")))).toContain("finite")
  expect((await parseProjectConfig("session:\n  timeout_hours: 4\n", join(tmp.path, ".scc.yaml")))?.config.session?.timeout_hours).toBe(4)
})

test("a corrupt org cache warns, is kept aside as a backup, and is fetched again", async () => {
  const { loadOrgConfig } = await import("../../src/org/load")
  const { paths } = await import("../../src/paths")
  const { isolatedHome, sampleOrgConfig } = await import("../support/org-fixtures")
  const { startOrgServer } = await import("../support/org-server")
  using _home = isolatedHome()
  await using server = startOrgServer(sampleOrgConfig())
  await loadOrgConfig({ source: server.url })
  writeFileSync(paths.orgConfigCache(), "{ torn")
  const again = await loadOrgConfig({ source: server.url })
  expect(again.origin).toBe("network")
  expect(server.requests).toHaveLength(2)
  expect(again.warnings.join("\n")).toMatch(/the cached org config at .* is corrupt \(its content does not match the hash recorded when it was fetched\); kept it as .*\.corrupt-/)
  const dir = join(paths.orgConfigCache(), "..")
  const backups = readdirSync(dir).filter((f) => f.includes(".corrupt-"))
  expect(backups).toHaveLength(1)
  expect(existsSync(paths.orgConfigCache())).toBe(true)
})

test("the binary names a directory where config.json or usage.jsonl should be (no 'This is a bug')", async () => {
  const { cli } = await import("../support/cli")
  const { paths } = await import("../../src/paths")
  const { renameSync, rmSync } = await import("node:fs")
  for (const [path, args] of [
    [paths.sccConfigFile(), ["config", "explain"]],
    [paths.usageFile(), ["stats"]],
  ] as const) {
    // The test home is shared with the other files' tests: set aside what they wrote there, put it back after.
    const saved = existsSync(path) ? `${path}.saved-by-test` : null
    if (saved) renameSync(path, saved)
    mkdirSync(path, { recursive: true })
    try {
      const r = await cli([...args])
      expect(r.code).toBe(3)
      expect(r.stderr).toContain(`${path} is a directory, where scc expects a regular file`)
      expect(r.stderr).not.toContain("This is a bug")
    } finally {
      rmSync(path, { recursive: true, force: true })
      if (saved) renameSync(saved, path)
    }
  }
})
