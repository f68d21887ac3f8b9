import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { ConflictError, ToolError } from "../../src/errors"
import { listManaged } from "../../src/sandbox/containers"
import { ensureContainer, type SecretResolver } from "../../src/sandbox/launch"
import { LABEL, planLaunch, type LaunchPlan } from "../../src/sandbox/plan"
import { resolveWorkspace } from "../../src/sandbox/workspace"
import { startPodman, TEST_IMAGE, type Podman } from "../support/podman"
import { git, tmpdir, type TmpDir } from "../support/tmpdir"
import { effectiveConfig, execIn } from "./fixtures"

// The launch against a real engine (Podman's Docker API): what the engine
// really has after `ensureContainer` (mounts, labels, environment) and the
// injected files read back from inside the container.

const GH_TOKEN = "ghp_launchTestSecret_1234567890"
const FILES_TOKEN = "files-secret-abcdef"
const secrets: Record<string, string> = { SCC_TEST_GH_TOKEN: GH_TOKEN, SCC_TEST_FILES_TOKEN: FILES_TOKEN }
const resolveSecret: SecretResolver = async (spec) => {
  const value = secrets[spec.replace(/^env:/, "")]
  if (!value) throw new Error(`unexpected spec ${spec}`)
  return value
}

let pm: Podman
let repo: TmpDir
let sessions: TmpDir

beforeAll(async () => {
  pm = await startPodman()
  await pm.importImage(TEST_IMAGE)
  repo = await tmpdir({ git: true })
  git(repo.path, "switch", "-q", "-c", "feature/launch")
  sessions = await tmpdir({ prefix: "scc-sessions-" })
})

afterAll(async () => {
  await pm?.[Symbol.asyncDispose]()
  await repo?.[Symbol.asyncDispose]()
  await sessions?.[Symbol.asyncDispose]()
})

function plan(over: Parameters<typeof effectiveConfig>[0] = {}): LaunchPlan {
  const workspace = resolveWorkspace(repo.path)
  return planLaunch({ config: effectiveConfig({ image: TEST_IMAGE, ...over }), workspace, sessionsRoot: sessions.path })
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name))
}

describe("ensureContainer", () => {
  test("creates the container the plan describes, with the injected files readable and read-only inside", async () => {
    const p = plan()
    const result = await ensureContainer(pm.docker, p, { resolveSecret })
    expect(result.action).toBe("created")

    const info = await pm.docker.getContainer(result.id).inspect()
    expect(info.State.Running).toBe(true)
    expect(info.Name.replace(/^\//, "")).toBe(p.container)
    expect(info.Config.Labels).toMatchObject({
      [LABEL.managed]: "true",
      [LABEL.workspace]: repo.path,
      [LABEL.branch]: "feature/launch",
      [LABEL.team]: "platform",
      [LABEL.session]: p.session,
    })
    const mounts = Object.fromEntries(info.Mounts.map((m) => [m.Destination, m]))
    expect(mounts[repo.path]).toMatchObject({ Source: repo.path, RW: true })
    expect(mounts["/etc/claude-code"]).toMatchObject({ Source: join(sessions.path, p.container, "claude-code"), RW: false })
    expect(mounts["/etc/scc"]).toMatchObject({ Source: join(sessions.path, p.container, "scc"), RW: false })
    expect(Object.keys(mounts).sort()).toEqual(["/etc/claude-code", "/etc/scc", repo.path].sort())

    const env = info.Config.Env
    expect(env).toContain(`SCC_MCP_GITHUB_HEADER_AUTHORIZATION=${GH_TOKEN}`)
    expect(env).toContain(`SCC_MCP_FILES_FILES_TOKEN=${FILES_TOKEN}`)
    expect(env).toContain("SCC_POLICY_PATH=/etc/scc/effective_policy.json")
    expect(env).toContain("SCC_MANAGED=1")

    const mcp = await execIn(pm.docker, result.id, ["cat", "/etc/claude-code/managed-mcp.json"])
    expect(mcp.code).toBe(0)
    expect(JSON.parse(mcp.stdout)).toEqual({
      mcpServers: {
        github: { type: "http", url: "https://mcp.example.com/github", headers: { Authorization: "${SCC_MCP_GITHUB_HEADER_AUTHORIZATION}", "X-Team": "platform" } },
        files: { type: "stdio", command: "/usr/local/bin/files-mcp", args: ["--root", "/work"], env: { FILES_TOKEN: "${SCC_MCP_FILES_FILES_TOKEN}", MODE: "ro" } },
      },
    })
    const settings = JSON.parse((await execIn(pm.docker, result.id, ["cat", "/etc/claude-code/managed-settings.json"])).stdout)
    expect(settings).toEqual({
      enabledPlugins: { "reviewer@acme-tools": true },
      extraKnownMarketplaces: { "acme-tools": { source: { source: "github", repo: "acme/claude-tools" } } },
      strictKnownMarketplaces: [{ source: "github", repo: "acme/claude-tools" }],
    })
    const policy = JSON.parse((await execIn(pm.docker, result.id, ["cat", "/etc/scc/effective_policy.json"])).stdout)
    expect(policy).toEqual({ action: "block", block_force_push: true, block_reset_hard: true, block_branch_force_delete: true, block_clean: false })

    // Read-only even for root inside the container.
    const write = await execIn(pm.docker, result.id, ["sh", "-c", "echo '{}' > /etc/scc/effective_policy.json"])
    expect(write.code).not.toBe(0)
    expect(write.stderr).toMatch(/read-only/i)
    // The workspace is writable, at the same path, and the change lands on the host.
    expect((await execIn(pm.docker, result.id, ["sh", "-c", `echo hi > ${repo.path}/from-container.txt`])).code).toBe(0)
    expect(readFileSync(join(repo.path, "from-container.txt"), "utf8")).toBe("hi\n")

    // No secret on the host disk: the session files hold ${VAR} references only.
    for (const f of filesUnder(join(sessions.path, p.container))) {
      const text = readFileSync(f, "utf8")
      expect(text).not.toContain(GH_TOKEN)
      expect(text).not.toContain(FILES_TOKEN)
      expect(statSync(f).mode & 0o777).toBe(0o644)
    }
    expect(statSync(sessions.path).isDirectory()).toBe(true)
  })

  test("reuses the container: attaches when running, starts it when stopped, replaces it with fresh", async () => {
    const first = await ensureContainer(pm.docker, plan(), { resolveSecret })
    expect(first.action).toBe("attached")

    await pm.docker.getContainer(first.id).stop({ t: 5 })
    const second = await ensureContainer(pm.docker, plan(), { resolveSecret })
    expect(second).toMatchObject({ action: "started", id: first.id })
    expect((await pm.docker.getContainer(first.id).inspect()).State.Running).toBe(true)

    const fresh = await ensureContainer(pm.docker, plan(), { resolveSecret, fresh: true })
    expect(fresh.action).toBe("created")
    expect(fresh.replaced).toBe(true)
    expect(fresh.id).not.toBe(first.id)
    expect((await listManaged(pm.docker, { workspace: repo.path })).map((c) => c.id)).toEqual([fresh.id])
  })

  test("a reused container sees the policy computed now: injected files are rewritten before attaching", async () => {
    const p = plan({ safety_net: { action: "warn", block_force_push: true, block_reset_hard: false, block_branch_force_delete: true, block_clean: true } })
    const r = await ensureContainer(pm.docker, p, { resolveSecret })
    expect(r.action).toBe("attached")
    const policy = JSON.parse((await execIn(pm.docker, r.id, ["cat", "/etc/scc/effective_policy.json"])).stdout)
    expect(policy.action).toBe("warn")
    expect(policy.block_reset_hard).toBe(false)
  })

  test("a running container created with a different plan is not silently reused; a stopped one is replaced", async () => {
    const changed = plan({ network_policy: "isolated" })
    await expect(ensureContainer(pm.docker, changed, { resolveSecret })).rejects.toBeInstanceOf(ConflictError)
    const [running] = await listManaged(pm.docker, { workspace: repo.path })
    await pm.docker.getContainer(running!.id).stop({ t: 5 })
    const r = await ensureContainer(pm.docker, changed, { resolveSecret })
    expect(r).toMatchObject({ action: "created", replaced: true })
    expect((await pm.docker.getContainer(r.id).inspect()).HostConfig.NetworkMode).toBe("none")
  })
})

test("an image the engine does not have is pulled; when that fails, exit 4 naming the image, and no container", async () => {
  await using other = await tmpdir({ git: true })
  const p = planLaunch({ config: effectiveConfig({ image: "localhost/scc-missing:1" }), workspace: resolveWorkspace(other.path), sessionsRoot: sessions.path })
  const notes: string[] = []
  const error = await ensureContainer(pm.docker, p, { resolveSecret, notify: (m) => notes.push(m) }).catch((e) => e)
  expect(error).toBeInstanceOf(ToolError)
  expect(error.message).toContain("pulling localhost/scc-missing:1")
  expect(notes).toEqual(["pulling localhost/scc-missing:1 ..."])
  expect(await listManaged(pm.docker, { workspace: other.path })).toEqual([])
  expect(existsSync(p.sessionDir)).toBe(false)
})
