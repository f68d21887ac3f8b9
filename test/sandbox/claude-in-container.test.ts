import { afterAll, beforeAll, expect, test } from "bun:test"
import { realpathSync } from "node:fs"
import { dirname, join } from "node:path"
import { ensureContainer } from "../../src/sandbox/launch"
import { planLaunch } from "../../src/sandbox/plan"
import { resolveWorkspace } from "../../src/sandbox/workspace"
import { startPodman, TEST_IMAGE, type Podman } from "../support/podman"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { effectiveConfig, execIn } from "./fixtures"

// The genuine Claude Code CLI (node_modules/.bin/claude, a self-contained
// executable) run inside a launched container reads the injected managed MCP
// config: it has exactly the effective servers, at enterprise scope, ignores
// a project `.mcp.json`, and refuses `claude mcp add`. The busybox test image
// has no C library, so the directories `ldd` names are mounted read-only next
// to the binary (test only: the plan is extended after it is made; the launch
// code is unchanged).

/** The directories of the shared libraries (and the loader) a binary needs, as `ldd` names them. */
function libraryDirs(binary: string): string[] {
  const r = Bun.spawnSync(["ldd", binary], { stdout: "pipe", stderr: "pipe" })
  if (r.exitCode !== 0) throw new Error(`ldd ${binary} failed: ${r.stderr}`)
  const paths = [...r.stdout.toString().matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]!)
  return [...new Set(paths.map((p) => dirname(p)))]
}

let pm: Podman
let repo: TmpDir
let sessions: TmpDir
let id: string

beforeAll(async () => {
  pm = await startPodman()
  await pm.importImage(TEST_IMAGE)
  repo = await tmpdir({ git: true })
  sessions = await tmpdir()
  await Bun.write(join(repo.path, ".mcp.json"), JSON.stringify({ mcpServers: { extra: { type: "http", url: "https://extra.example.com/mcp" } } }))
  const plan = planLaunch({ config: effectiveConfig({ image: TEST_IMAGE }), workspace: resolveWorkspace(repo.path), sessionsRoot: sessions.path })
  const claude = realpathSync(join(import.meta.dir, "..", "..", "node_modules", ".bin", "claude"))
  plan.mounts.push({ source: claude, target: "/usr/local/bin/claude", readOnly: true, why: "test: the real claude binary" })
  for (const dir of libraryDirs(claude)) plan.mounts.push({ source: realpathSync(dir), target: dir, readOnly: true, why: "test: the host's C library" })
  id = (await ensureContainer(pm.docker, plan, { resolveSecret: async () => "ghp_containerSecret_42" })).id
})

afterAll(async () => {
  await pm?.[Symbol.asyncDispose]()
  await repo?.[Symbol.asyncDispose]()
  await sessions?.[Symbol.asyncDispose]()
})

const claude = (args: string) =>
  execIn(pm.docker, id, ["sh", "-c", `cd ${repo.path} && HOME=/tmp DISABLE_TELEMETRY=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 timeout 60 claude ${args} 2>&1`])

test("claude in the container has exactly the effective MCP servers, from the managed config", { timeout: 90_000 }, async () => {
  const list = await claude("mcp list")
  expect(list.code).toBe(0)
  const servers = list.stdout
    .split("\n")
    .map((l) => /^([\w.-]+): /.exec(l)?.[1])
    .filter(Boolean)
  expect(servers).toEqual(["github", "files"])
  expect(list.stdout).not.toContain("extra")

  const get = await claude("mcp get github")
  expect(get.stdout).toMatch(/Scope: Enterprise/)
  expect(get.stdout).toContain("Authorization: ${SCC_MCP_GITHUB_HEADER_AUTHORIZATION}")
  expect(get.stdout).not.toContain("ghp_containerSecret_42")

  const add = await claude("mcp add --transport http mine https://mine.example.com/mcp")
  expect(add.code).not.toBe(0)
  expect(add.stdout).toMatch(/exclusive control/)
})
