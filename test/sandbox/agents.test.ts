import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test"
import { existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as v from "valibot"
import { CcaConfig } from "../../src/config/schema"
import { BlockedError, type AppError } from "../../src/errors"
import { explain } from "../../src/governance/explain"
import { paths } from "../../src/paths"
import { poolOptions } from "../../src/pool/options"
import { createPool } from "../../src/pool/pool"
import { AGENT_LABEL, agentContainerName } from "../../src/pool/sandbox"
import { sessionsRoot } from "../../src/sandbox/plan"
import { explainBlocked } from "../../src/sandbox/start"
import { CLAUDE, claudeEnv, SONNET, within } from "../support/claude"
import { binary, cli } from "../support/cli"
import { startModelServer, type ModelServer } from "../support/model-server"
import { startPodman, type Podman } from "../support/podman"
import { tmpdir, type TmpDir } from "../support/tmpdir"
import { testDaemon, type TestDaemon } from "../daemon/harness"
import { execIn, glibcFiles } from "./fixtures"

setDefaultTimeout(120_000)

// Daemon agents inside governed containers (agents.sandbox = "docker") on a
// real Podman: the genuine claude runs in a container made from the same
// governance function and launch plan as `scc start`, driven over the
// container's attached stdio (stream) or an exec TTY (pty); its cca MCP
// bridge and its hooks reach the daemon from inside. The image is built here
// from host files: busybox plus the glibc the claude binary needs; claude
// itself and the daemon's binary are mounted read-only (sandbox_mount_claude).

const IMAGE = "localhost/cca-agent:latest"
const BLOCKED_IMAGE = "docker.io/evil/miner:1"

function org(): Record<string, unknown> {
  return {
    schema_version: "1.0",
    organization: { name: "Acme", id: "acme" },
    marketplaces: { acme: { source: "github", repo: "acme/claude-plugins" } },
    security: {
      blocked_plugins: ["evil-*@*"],
      blocked_mcp_servers: ["*.untrusted.test"],
      blocked_base_images: ["docker.io/evil/*"],
      safety_net: { action: "block", block_force_push: true },
    },
    defaults: { allowed_plugins: ["*@acme"], enabled_plugins: ["lint@acme"], session: { timeout_hours: 8 } },
    delegation: { teams: { allow_additional_plugins: ["*"], allow_additional_mcp_servers: ["*"] } },
    profiles: {
      platform: { description: "Platform", sandbox: { image: IMAGE }, additional_mcp_servers: [{ name: "jira", type: "http", url: "http://127.0.0.1:9/mcp" }] },
      risky: {
        description: "Asks for what security forbids",
        sandbox: { image: BLOCKED_IMAGE },
        additional_mcp_servers: [{ name: "leak", type: "http", url: "https://leak.untrusted.test/mcp" }],
      },
      closed: { description: "No network", sandbox: { image: IMAGE }, network_policy: "isolated" },
    },
  }
}

let pm: Podman
let model: ModelServer
let t: TestDaemon
let orgDir: TmpDir
let orgFile: string

beforeAll(async () => {
  const claude = realpathSync(CLAUDE)
  pm = await startPodman()
  await pm.importImage(IMAGE, await glibcFiles(claude))
  model = await startModelServer([
    { match: { lastUserText: "hello" }, reply: { content: "hello from a container", usage: { input: 120, output: 7 } } },
    { match: { lastUserText: "who is here", toolResult: false }, reply: { content: [{ type: "tool_use", name: "mcp__cca__cca_agents", input: {} }] } },
    { match: { toolResult: { name: "mcp__cca__cca_agents" } }, reply: (c) => ({ content: `agents tool said: ${c.toolResults[0]!.text}` }) },
  ])
  orgDir = await tmpdir({ prefix: "cca-org-" })
  orgFile = join(orgDir.path, "org.json")
  writeFileSync(orgFile, JSON.stringify(org()))
  t = await testDaemon({ agents: agentsConfig("platform") }, { pool: { env: claudeEnv(model), mcpCommand: [binary("scc")], engine: async () => pm.docker } })
}, 180_000)

const agentsConfig = (team: string) => ({ claude_path: CLAUDE, model: SONNET, max_agents: 4, sandbox: "docker" as const, team, org: orgFile, sandbox_mount_claude: true, restart_backoff_s: 0 })

/** A pool of its own (no daemon) whose agents are governed as `team`. */
function teamPool(team: string) {
  const config = v.parse(CcaConfig, { agents: { ...agentsConfig(team), workspace: t.tmp.path } })
  return createPool(poolOptions(config, { stateRoot: join(orgDir.path, "agents"), env: claudeEnv(model), mcpCommand: null, owner: t.daemon.ctx.daemonId, engine: async () => pm.docker }))
}

afterAll(async () => {
  await t?.[Symbol.asyncDispose]()
  await model?.close()
  await pm?.[Symbol.asyncDispose]()
  await orgDir?.[Symbol.asyncDispose]()
})

const agentContainers = async () => pm.docker.listContainers({ all: true, filters: { label: [`${AGENT_LABEL.daemon}=${t.daemon.ctx.daemonId}`] } })

test("a sandboxed stream agent runs its turn in a labelled container; the managed files are there, read-only, and the cca bridge reaches the daemon", async () => {
  const spawned = await t.json("POST", "/api/v1/agents", { role: "backend", id: "box-1" })
  expect(spawned.status).toBe(201)
  const name = agentContainerName(t.daemon.ctx.daemonId, "box-1")
  expect(spawned.body).toMatchObject({ id: "box-1", status: "idle", container: name })

  const [c] = await agentContainers()
  expect(c!.Labels).toMatchObject({ "scc.managed": "true", "scc.team": "platform", [AGENT_LABEL.agent]: "box-1", [AGENT_LABEL.role]: "backend" })
  const info = await pm.docker.getContainer(c!.Id).inspect()
  const mounts = Object.fromEntries(info.Mounts.map((m: { Destination: string; RW: boolean }) => [m.Destination, m.RW]))
  expect(mounts).toMatchObject({ "/etc/claude-code": false, "/etc/scc": false, "/opt/cca/bin/claude": false, "/opt/cca/bin/cca": false })
  expect(info.HostConfig.NetworkMode).toBe("host")

  // The files are the ones governance computed for this workspace and team (the same as scc start writes).
  const x = await explain({ workspace: t.tmp.path, team: "platform", orgSource: orgFile })
  const read = async (p: string) => { const r = await execIn(pm.docker, c!.Id, ["cat", p]); if (r.code !== 0) throw new Error(JSON.stringify(r)); return JSON.parse(r.stdout) }
  const settings = await read("/etc/claude-code/managed-settings.json")
  expect(Object.keys(settings.enabledPlugins)).toEqual(x.effective.plugins)
  const mcp = await read("/etc/claude-code/managed-mcp.json")
  expect(Object.keys(mcp.mcpServers).sort()).toEqual([...x.effective.mcp_servers.map((s) => s.name), "cca"].sort())
  expect(mcp.mcpServers.cca).toMatchObject({ command: "/opt/cca/bin/cca", args: ["mcp", "--agent", "box-1", "--role", "backend"] })
  expect(await read("/etc/scc/effective_policy.json")).toEqual(x.effective.safety_net as never)
  for (const file of ["/etc/claude-code/managed-mcp.json", "/etc/scc/effective_policy.json"]) {
    const w = await execIn(pm.docker, c!.Id, ["sh", "-c", `echo '{}' > ${file}`])
    expect(w.code).not.toBe(0)
    expect(w.stderr).toMatch(/Read-only file system/)
  }

  const hello = await t.json("POST", "/api/v1/agents/box-1/send", { message: "hello" })
  expect(hello.status).toBe(200)
  expect(hello.body.result).toMatchObject({ ok: true, text: "hello from a container" })

  const who = await t.json("POST", "/api/v1/agents/box-1/send", { message: "who is here" })
  expect(who.body.result.text).toStartWith("agents tool said:")
  expect(who.body.result.text).toContain("box-1")
})

test("an agent that dies in its container is restarted in a new one; stopping it removes the container and its files; the sessions are in the usage stats with the team", async () => {
  const crashedName = agentContainerName(t.daemon.ctx.daemonId, "box-1")
  const first = (await agentContainers())[0]!
  const restarted = within(
    new Promise<void>((resolve) => {
      const off = t.daemon.ctx.pool.on("restarted", (e) => e.agentId === "box-1" && (off(), resolve()))
    }),
    60_000,
    "the restart",
  )
  await pm.docker.getContainer(first.Id).kill({ signal: "SIGKILL" })
  await restarted
  const now = await agentContainers()
  expect(now).toHaveLength(1)
  expect(now[0]!.Id).not.toBe(first.Id)
  expect((await t.json("POST", "/api/v1/agents/box-1/send", { message: "hello" })).body.result.text).toBe("hello from a container")

  expect((await t.json("POST", "/api/v1/agents/box-1/stop")).status).toBe(200)
  expect(await agentContainers()).toEqual([])
  expect(existsSync(join(sessionsRoot(), crashedName))).toBe(false)

  const events = readFileSync(paths.usageFile(), "utf8").trim().split("\n").map((l) => JSON.parse(l))
  const starts = events.filter((e) => e.type === "session_start" && e.team === "platform")
  const ends = events.filter((e) => e.type === "session_end" && starts.some((s) => s.session === e.session))
  expect(starts.length).toBeGreaterThanOrEqual(2)
  expect(ends.length).toBe(starts.length)
})

test("a blocked image or item refuses the spawn with the text `scc config explain` prints, and no container is made", async () => {
  const risky = teamPool("risky")
  const closedPool = teamPool("closed")
  try {
    const err = (await risky.spawn({ role: "qa", id: "box-risky" }).catch((e: unknown) => e)) as AppError
    expect(err).toBeInstanceOf(BlockedError)
    expect(err.exitCode).toBe(6)
    const explained = await cli(["config", "explain", "--field", "blocked", "--team", "risky", "--workspace", t.tmp.path], { env: { SCC_ORG_SOURCE: orgFile } })
    expect(explained.code).toBe(0)
    expect(explained.stdout).toContain(BLOCKED_IMAGE)
    expect(explained.stdout).toContain("leak")
    expect(err.message).toContain(explained.stdout.trim())
    expect(err.message).toContain(explainBlocked(await explain({ workspace: t.tmp.path, team: "risky", orgSource: orgFile })))
    expect(await agentContainers()).toEqual([])

    const closed = (await closedPool.spawn({ role: "qa", id: "box-closed" }).catch((e: unknown) => e)) as AppError
    expect(closed).toBeInstanceOf(BlockedError)
    expect(closed.message).toMatch(/network_policy .* is isolated/)
    expect(await agentContainers()).toEqual([])
  } finally {
    await risky.close()
    await closedPool.close()
  }
})

test("a sandboxed pty agent runs claude in an exec TTY; its hooks reach the daemon's hook route from inside", async () => {
  const spawned = await t.json("POST", "/api/v1/agents", { role: "frontend", id: "box-pty", driver: "pty" })
  expect(spawned.status).toBe(201)
  expect(spawned.body.container).toBe(agentContainerName(t.daemon.ctx.daemonId, "box-pty"))
  const hello = await t.json("POST", "/api/v1/agents/box-pty/send", { message: "hello", timeoutS: 60 })
  expect(hello.status).toBe(200)
  expect(hello.body.result).toMatchObject({ ok: true, text: "hello from a container" })
  expect(hello.body.result.usage.inputTokens).toBeGreaterThan(0)

  const list = await cli(["list", "--json"], { env: { DOCKER_HOST: pm.dockerHost } })
  expect(list.code).toBe(0)
  expect(list.json().data.map((c: { agent: string | null }) => c.agent)).toContain("box-pty")

  await t.daemon.ctx.pool.close()
  expect(await agentContainers()).toEqual([])
})
