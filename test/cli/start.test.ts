import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { LABEL } from "../../src/sandbox/plan"
import { execIn } from "../sandbox/fixtures"
import { cli } from "../support/cli"
import { startPodman, TEST_IMAGE, type Podman } from "../support/podman"
import { ICANON, runInPty } from "../support/pty"
import { git, tmpdir, type TmpDir } from "../support/tmpdir"

// `scc start` end to end: the compiled binary, a real org config (a local
// file), the real governance merge, real git workspaces and a real engine
// (Podman's Docker API). `claude` in the test image is a shell script standing
// in for Claude Code (the image is busybox and has no node); it proves the
// terminal wiring: size, raw input, resize, exit status. After the first
// line it polls its own TTY size until the resize lands, so the test waits on
// that event rather than on time.

const SECRET = "ghp_startTestSecret_9f8e7d6c5b4a"
const CLAUDE_STANDIN = `#!/bin/sh
# Stand-in for Claude Code (no node in the test image).
echo "READY size=$(stty size) term=$TERM pwd=$(pwd)"
IFS= read -r line
echo "got:$line"
while [ "$(stty size)" = "30 100" ]; do sleep 0.05; done
echo "size=$(stty size)"
exit 7
`

const ORG = {
  schema_version: "1.0",
  organization: { name: "Acme", id: "acme" },
  marketplaces: { "acme-tools": { source: "github", repo: "acme/claude-tools" } },
  security: { blocked_mcp_servers: ["evil-*"], blocked_base_images: ["docker.io/library/ubuntu*"], safety_net: { action: "block", block_clean: false } },
  defaults: {
    enabled_plugins: ["reviewer@acme-tools"],
    mcp_servers: [{ name: "github", type: "http", url: "https://mcp.example.com/github", headers: { Authorization: "env:SCC_TEST_GH_TOKEN" } }],
    sandbox: { image: TEST_IMAGE },
    session: { timeout_hours: 6 },
  },
  delegation: { teams: { allow_additional_mcp_servers: ["*"] } },
  profiles: {
    platform: { description: "Platform team" },
    risky: { additional_mcp_servers: [{ name: "evil-tracker", type: "http", url: "https://evil.example.com/mcp" }] },
  },
  stats: { enabled: true, user_identity_mode: "clear" },
}

let pm: Podman
let org: TmpDir
let env: Record<string, string>
const home = process.env.HOME!
const usageFile = () => join(process.env.XDG_CACHE_HOME!, "scc", "usage.jsonl")

async function workspace(branch = "feature/start"): Promise<TmpDir> {
  const ws = await tmpdir({ git: true })
  if (branch !== "main") git(ws.path, "switch", "-q", "-c", branch)
  return ws
}

async function managedNames(): Promise<string[]> {
  return (await pm.docker.listContainers({ all: true })).map((c) => c.Names[0]!.replace(/^\//, "")).sort()
}

beforeAll(async () => {
  pm = await startPodman()
  await pm.importImage(TEST_IMAGE, { "usr/local/bin/claude": [CLAUDE_STANDIN, 0o755] })
  org = await tmpdir({ prefix: "scc-org-" })
  writeFileSync(join(org.path, "org.json"), JSON.stringify(ORG))
  mkdirSync(join(process.env.XDG_CONFIG_HOME!, "scc"), { recursive: true })
  writeFileSync(join(process.env.XDG_CONFIG_HOME!, "scc", "config.json"), JSON.stringify({ organization_source: { url: join(org.path, "org.json") }, team: "platform" }))
  env = { DOCKER_HOST: pm.dockerHost, SCC_TEST_GH_TOKEN: SECRET, SCC_USER: "tester" }
})

afterAll(async () => {
  await pm?.[Symbol.asyncDispose]()
  await org?.[Symbol.asyncDispose]()
})

describe("start --dry-run", () => {
  test("prints the whole plan, secrets masked, effective config identical to config explain; needs no engine", async () => {
    await using ws = await workspace()
    const r = await cli(["start", ws.path, "--dry-run", "--json"], { env: { ...env, DOCKER_HOST: "unix:///nonexistent/engine.sock" } })
    expect(r.code).toBe(0)
    expect(r.stdout + r.stderr).not.toContain(SECRET)
    const plan = r.json().data
    expect(plan.image).toBe(TEST_IMAGE)
    expect(plan.labels).toMatchObject({ [LABEL.managed]: "true", [LABEL.workspace]: ws.path, [LABEL.branch]: "feature/start", [LABEL.team]: "platform" })
    expect(plan.mounts.map((m: { target: string; readOnly: boolean }) => [m.target, m.readOnly])).toEqual([
      [ws.path, false],
      ["/etc/claude-code", true],
      ["/etc/scc", true],
    ])
    expect(plan.env).toContainEqual({ name: "SCC_MCP_GITHUB_HEADER_AUTHORIZATION", value: "****", secret: true, from: "mcp_servers.github.headers.Authorization (env:SCC_TEST_GH_TOKEN)" })
    const files = Object.fromEntries(plan.files.map((f: { path: string; content: string }) => [f.path, JSON.parse(f.content)]))
    expect(files["/etc/claude-code/managed-mcp.json"].mcpServers.github.headers.Authorization).toBe("${SCC_MCP_GITHUB_HEADER_AUTHORIZATION}")
    expect(files["/etc/claude-code/managed-settings.json"].enabledPlugins).toEqual({ "reviewer@acme-tools": true })
    expect(files["/etc/scc/effective_policy.json"]).toMatchObject({ action: "block", block_clean: false })

    const explained = await cli(["config", "explain", "--workspace", ws.path, "--json"], { env })
    expect(explained.code).toBe(0)
    expect(plan.effective.effective).toEqual(explained.json().data.effective)
    expect(plan.effective.decisions).toEqual(explained.json().data.decisions)
    // Nothing was written: no session directory.
    expect(readdirSync(join(process.env.XDG_CACHE_HOME!, "scc")).includes("sessions") && readdirSync(join(process.env.XDG_CACHE_HOME!, "scc", "sessions")).length > 0).toBe(false)
  })

  test("text output shows the plan and then config explain's own rendering", async () => {
    await using ws = await workspace()
    const r = await cli(["start", ws.path, "--dry-run"], { env })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("Launch plan (dry run")
    expect(r.stdout).toContain("/etc/claude-code/managed-mcp.json (read-only)")
    const explained = await cli(["config", "explain", "--workspace", ws.path], { env })
    expect(r.stdout.endsWith(explained.stdout)).toBe(true)
  })
})

describe("start refuses before touching the engine", () => {
  test("a blocked image ends the launch with exit 6, explain's explanation, and no container", async () => {
    await using ws = await workspace()
    const before = await managedNames()
    const r = await cli(["start", ws.path, "--detach", "--image", "ubuntu:22.04"], { env })
    expect(r.code).toBe(6)
    expect(r.stderr).toContain("blocked")
    expect(r.stderr).toContain("docker.io/library/ubuntu*")
    expect(await managedNames()).toEqual(before)
  })

  test("a blocked MCP server ends the launch with exit 6 and no container", async () => {
    await using ws = await workspace()
    const before = await managedNames()
    const r = await cli(["start", ws.path, "--detach", "--team", "risky", "--json"], { env })
    expect(r.code).toBe(6)
    const error = r.json().status.errors[0]
    expect(error.code).toBe("blocked")
    expect(error.details.blocked).toContainEqual(expect.objectContaining({ item: "evil-tracker", target_type: "mcp_server", blocked_by: "evil-*" }))
    expect(await managedNames()).toEqual(before)
  })

  test("with no image configured, the default image is judged by the same policy", async () => {
    await using ws = await workspace()
    const strict = { ...ORG, security: { blocked_base_images: ["docker.io/docker/*"] }, defaults: { ...ORG.defaults, sandbox: {} } }
    writeFileSync(join(org.path, "strict.json"), JSON.stringify(strict))
    const r = await cli(["start", ws.path, "--dry-run"], { env: { ...env, SCC_ORG_SOURCE: join(org.path, "strict.json") } })
    expect(r.code).toBe(6)
    expect(r.stderr).toContain("the default image docker.io/docker/sandbox-templates:claude-code")
    expect(r.stderr).toContain("docker.io/docker/*")
    writeFileSync(join(org.path, "open.json"), JSON.stringify({ ...strict, security: {} }))
    const allowed = await cli(["start", ws.path, "--dry-run", "--json"], { env: { ...env, SCC_ORG_SOURCE: join(org.path, "open.json") } })
    expect(allowed.code).toBe(0)
    expect(allowed.json().data).toMatchObject({ image: "docker.io/docker/sandbox-templates:claude-code", imageSource: "default" })
  })

  test("suspicious workspaces are refused (exit 2); a protected branch needs --branch or --allow-protected", async () => {
    expect((await cli(["start", "/", "--dry-run"], { env })).code).toBe(2)
    expect((await cli(["start", home, "--dry-run"], { env })).code).toBe(2)
    await using ws = await workspace("main")
    const refused = await cli(["start", ws.path, "--dry-run"], { env })
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain("--branch")
    const planned = await cli(["start", ws.path, "--dry-run", "--json", "--branch", "feature/y"], { env })
    expect(planned.json().data).toMatchObject({ branch: "feature/y", notes: [expect.stringContaining("feature/y")] })
    expect(git(ws.path, "branch", "--show-current")).toBe("main") // dry run: nothing changed
    expect((await cli(["start", ws.path, "--dry-run", "--json", "--allow-protected"], { env })).json().data.branch).toBe("main")
  })

  test("a credential that cannot be resolved is exit 3 naming the MCP server, and no container", async () => {
    await using ws = await workspace()
    const before = await managedNames()
    const r = await cli(["start", ws.path, "--detach"], { env: { ...env, SCC_TEST_GH_TOKEN: undefined } })
    expect(r.code).toBe(3)
    expect(r.stderr).toContain("mcp_servers.github.headers.Authorization (env:SCC_TEST_GH_TOKEN)")
    expect(r.stderr).toContain("Try: export SCC_TEST_GH_TOKEN=<value>")
    expect(await managedNames()).toEqual(before)
  })

  test("no engine reachable is exit 5 with a hint", async () => {
    await using ws = await workspace()
    const r = await cli(["start", ws.path, "--detach"], { env: { ...env, DOCKER_HOST: "unix:///nonexistent/engine.sock" } })
    expect(r.code).toBe(5)
    expect(r.stderr).toContain("Try:")
  })
})

describe("start", () => {
  test("--detach creates the container the plan describes; the secret is in its environment only", { timeout: 60_000 }, async () => {
    await using ws = await workspace()
    const r = await cli(["start", ws.path, "--detach", "--json"], { env })
    expect(r.code).toBe(0)
    const { container, action, session } = r.json().data
    expect(action).toBe("created")
    const info = await pm.docker.getContainer(container).inspect()
    expect(info.State.Running).toBe(true)
    expect(info.Config.Labels).toMatchObject({ [LABEL.managed]: "true", [LABEL.workspace]: ws.path, [LABEL.branch]: "feature/start", [LABEL.team]: "platform", [LABEL.session]: session })
    expect(info.Config.Env).toContain(`SCC_MCP_GITHUB_HEADER_AUTHORIZATION=${SECRET}`)
    const mcp = JSON.parse((await execIn(pm.docker, info.Id, ["cat", "/etc/claude-code/managed-mcp.json"])).stdout)
    expect(Object.keys(mcp.mcpServers)).toEqual(["github"])
    // Never on the host disk: not in the session files, the logs, the usage log or any config.
    for (const dir of [process.env.XDG_CACHE_HOME!, process.env.XDG_DATA_HOME!, process.env.XDG_CONFIG_HOME!]) {
      for (const f of readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile())) {
        expect(readFileSync(join(f.parentPath, f.name), "utf8")).not.toContain(SECRET)
      }
    }
    const events = readFileSync(usageFile(), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(events).toContainEqual(expect.objectContaining({ type: "session_start", session, project: ws.path.split("/").at(-1), team: "platform", branch: "feature/start", expected_hours: 6 }))

    const again = await cli(["start", ws.path, "--detach", "--json"], { env })
    expect(again.json().data).toMatchObject({ container, action: "attached" })
    const fresh = await cli(["start", ws.path, "--detach", "--fresh", "--json"], { env })
    expect(fresh.json().data).toMatchObject({ container, action: "created" })
    expect((await pm.docker.getContainer(container).inspect()).Id).not.toBe(info.Id)
  })

  test("the interactive session: claude in a TTY of the terminal's size, raw input, resize, exit status, terminal restored", { timeout: 60_000 }, async () => {
    await using ws = await workspace()
    await using run = runInPty(["start", ws.path], { env, cols: 100, rows: 30 })
    await run.waitFor(/READY size=30 100 term=xterm-256color pwd=(\S+)/)
    expect(run.output()).toContain(`pwd=${ws.path}`)
    expect(run.terminal.localFlags & ICANON).toBe(0) // raw while the session runs
    run.terminal.write("hello\r")
    await run.waitFor(/got:hello/)
    run.terminal.resize(120, 40)
    await run.waitFor(/size=40 120/)
    expect(await run.proc.exited).toBe(7)
    expect(run.terminal.localFlags & ICANON).not.toBe(0) // restored

    const events = readFileSync(usageFile(), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    const end = events.findLast((e) => e.type === "session_end")
    expect(end).toMatchObject({ exit_code: 7, team: "platform" })
    expect(events.find((e) => e.type === "session_start" && e.session === end.session)).toBeDefined()
  })

  test("on a protected branch: the branch prompt in the real terminal, then the session on the new branch", { timeout: 60_000 }, async () => {
    await using ws = await workspace("main")
    await using run = runInPty(["start", ws.path], { env, cols: 100, rows: 30 })
    await run.waitFor(/main is a protected branch .*\[[^\]]+\]: /s)
    expect(run.terminal.localFlags & ICANON).not.toBe(0) // a line prompt: cooked mode, echo
    run.terminal.write("feature/from-prompt\r")
    await run.waitFor(/switched .* to new work branch feature\/from-prompt/)
    // The prompt's reader must hand stdin back: the session reads the same terminal.
    await run.waitFor(/READY size=30 100 term=xterm-256color/)
    expect(run.output()).not.toContain("ReadableStream")
    expect(run.terminal.localFlags & ICANON).toBe(0)
    run.terminal.write("typed after the prompt\r")
    await run.waitFor(/got:typed after the prompt/)
    run.terminal.resize(120, 40)
    await run.waitFor(/size=40 120/)
    expect(await run.proc.exited).toBe(7)
    expect(git(ws.path, "branch", "--show-current")).toBe("feature/from-prompt")
    const [c] = await pm.docker.listContainers({ all: true, filters: { label: [`${LABEL.workspace}=${ws.path}`] } })
    expect(c?.Labels[LABEL.branch]).toBe("feature/from-prompt")
  })

  test("SIGTERM during the session: the terminal is restored, the end is recorded, the container keeps running", { timeout: 60_000 }, async () => {
    await using ws = await workspace()
    await using run = runInPty(["start", ws.path], { env, cols: 100, rows: 30 })
    await run.waitFor(/READY size=30 100/)
    expect(run.terminal.localFlags & ICANON).toBe(0)
    run.proc.kill("SIGTERM")
    expect(await run.proc.exited).toBe(143)
    expect(run.terminal.localFlags & ICANON).not.toBe(0)
    const events = readFileSync(usageFile(), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(events.findLast((e) => e.type === "session_end")).toMatchObject({ exit_code: 143 })
    const [c] = await pm.docker.listContainers({ filters: { label: [`${LABEL.workspace}=${ws.path}`] } })
    expect(c?.State).toBe("running")
  })
})
