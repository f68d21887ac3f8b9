import type Docker from "dockerode"
import { realpathSync } from "node:fs"
import type { McpServerSpec } from "../agent/types"
import { BlockedError, ConfigError, PrerequisiteError } from "../errors"
import { projectName } from "../git/root"
import type { Logger } from "../log"
import { resolveToken } from "../org/auth"
import { orgSettings } from "../org/settings"
import type { AgentContainer } from "../sandbox/agent-container"
import { AGENT_ID_LABEL } from "../sandbox/containers"
import { CLAUDE_MANAGED_DIR } from "../sandbox/inject"
import { resolveEnv, writeSessionFiles } from "../sandbox/launch"
import { LABEL, planLaunch, sessionsRoot, type LaunchPlan } from "../sandbox/plan"
import { governedConfig } from "../sandbox/start"
import { resolveWorkspace, type Mount } from "../sandbox/workspace"
import { recordSessionEnd, recordSessionStart } from "../stats/record"

// agents.sandbox = "docker": each start of an agent's claude gets a container
// made exactly as `scc start` makes one for the same workspace and team: the
// same governance function (explain(), so a blocked item or image refuses
// the spawn with the text `scc config explain` prints), the same launch plan
// (mounts, injected managed settings / MCP / safety-net policy, labels,
// environment), recorded in the same usage stats. What the daemon adds, and
// only that: the agent's own state directory, the binaries it runs, its cca
// MCP bridge in the managed MCP config, host networking so the bridge and
// hooks reach the daemon on loopback, and `cca.*` labels. Decided again at
// every (re)start, so a restarted agent runs under the policy of now.

export const AGENT_LABEL = { agent: AGENT_ID_LABEL, role: "cca.role", daemon: "cca.daemon" } as const
/** Where the daemon's own binaries appear inside an agent's container (read-only). */
export const CCA_BIN_DIR = "/opt/cca/bin"
const BRIDGE = "cca"

export type SandboxSettings = {
  /** `[agents] team`: the scc team whose policy binds the agents; undefined: the user's scc team. */
  team?: string
  /** `[agents] org`: the org config source; undefined: the user's scc org source. */
  org?: string
  /** `[agents] image`: asked for like `scc start --image` (judged by blocked_base_images). */
  image?: string
  /** Mount this host's claude (agents.claude_path) into the container instead of running the image's. */
  mountClaude: boolean
  /** The host claude, resolved, when mountClaude. */
  claudePath: string
  /** The supervising daemon, on every container's `cca.daemon` label. */
  owner: string
  /** The engine; default: the one `scc start` finds (DOCKER_HOST or the usual sockets). */
  engine?: () => Promise<Docker>
  log: Logger
}

export type AgentSlotInfo = { id: string; role: string; cwd: string; stateDir: string }

const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "")

/** `cca-<daemon>-<agent>`: one container per agent of one daemon (an earlier one of that name is replaced). */
export function agentContainerName(owner: string, agentId: string): string {
  return `cca-${clean(owner).slice(0, 40) || "daemon"}-${clean(agentId)}`
}

export class AgentSandboxes {
  private engine: Promise<Docker> | undefined

  constructor(private readonly s: SandboxSettings) {}

  /** The engine, connected once; its first use removes containers a killed run of this daemon left behind. */
  docker(): Promise<Docker> {
    this.engine ??= (async () => {
      const docker = this.s.engine ? await this.s.engine() : await (await import("../sandbox/engine")).connect()
      await this.sweep(docker)
      return docker
    })()
    this.engine.catch(() => (this.engine = undefined))
    return this.engine
  }

  /** Removes this daemon's agent containers (all of them, or those of one agent). */
  async sweep(docker: Docker, agentId?: string): Promise<number> {
    const label = [`${AGENT_LABEL.daemon}=${this.s.owner}`, ...(agentId ? [`${AGENT_LABEL.agent}=${agentId}`] : [])]
    const found = await docker.listContainers({ all: true, filters: { label } }).catch(() => [])
    for (const c of found) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {})
    if (found.length) this.s.log.info(`removed ${found.length} agent container(s) left by an earlier run of daemon ${this.s.owner}`)
    return found.length
  }

  /**
   * The container host for one start of an agent. Refuses (BlockedError, the
   * explain text) before the engine is touched when governance blocks anything.
   */
  async host(slot: AgentSlotInfo, mcp: McpServerSpec | undefined): Promise<AgentContainer> {
    // Without an org config nothing could govern the container; the agent is refused, never run unconfined.
    if ((await orgSettings(this.s.org ? { source: this.s.org } : {})).source === undefined) {
      throw new PrerequisiteError('agents.sandbox = "docker" needs the organization config that governs the containers, and none is configured', {
        hint: "set [agents] org in cca.toml (a URL, shorthand or file), or run scc setup --org <source> as the daemon's user",
      })
    }
    const ws = resolveWorkspace(slot.cwd)
    const { explained: x, org } = await governedConfig({ workspace: ws.path, team: this.s.team, orgSource: this.s.org, image: this.s.image })
    for (const w of x.warnings) this.s.log.warn(`agent ${slot.id}: ${w}`)
    for (const d of x.denied) this.s.log.warn(`agent ${slot.id}: not added: ${d.item} (${d.target_type}): ${d.reason}`)
    if (x.effective.network_policy === "isolated") {
      throw new BlockedError(`agent ${slot.id}: the org's network_policy for ${x.team ? `team ${x.team}` : "this workspace"} is isolated: a container without a network could reach neither the model nor the daemon`, {
        hint: "run these agents as a team whose network_policy is corp-proxy-only or unrestricted ([agents] team), or ask your org admin",
      })
    }
    const container = agentContainerName(this.s.owner, slot.id)
    const plan = planLaunch({ config: x, workspace: ws, imageFlag: this.s.image, sessionsRoot: sessionsRoot(), container })
    const bins: Mount[] = []
    let bridge: Record<string, unknown> | undefined
    if (mcp) {
      bins.push({ source: realpathSync(mcp.command), target: `${CCA_BIN_DIR}/cca`, readOnly: true, why: "the daemon's binary, for the agent's cca MCP bridge" })
      bridge = { type: "stdio", command: `${CCA_BIN_DIR}/cca`, args: mcp.args ?? [], env: mcp.env ?? {} }
    }
    if (this.s.mountClaude) bins.push({ source: realpathSync(this.s.claudePath), target: `${CCA_BIN_DIR}/claude`, readOnly: true, why: "this host's claude (agents.sandbox_mount_claude)" })
    const agentPlan: LaunchPlan = {
      ...plan,
      files: withBridge(plan, bridge),
      mounts: [...plan.mounts, { source: slot.stateDir, target: slot.stateDir, readOnly: false, why: "the agent's state: Claude Code home, settings" }, ...bins],
      labels: { ...plan.labels, [AGENT_LABEL.agent]: slot.id, [AGENT_LABEL.role]: slot.role, [AGENT_LABEL.daemon]: this.s.owner },
      command: [this.s.mountClaude ? `${CCA_BIN_DIR}/claude` : "claude"],
    }
    const docker = await this.docker()
    const env = Object.fromEntries((await resolveEnv(agentPlan.env, (spec) => resolveToken(spec))).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]))
    writeSessionFiles(agentPlan)
    const stats = recordSessionStart(
      { project: projectName(ws.path), team: x.team, branch: ws.branch, expectedHours: x.effective.session.timeout_hours },
      { policy: org.stats, orgId: org.organization.id ?? org.organization.name },
    )
    const { AgentContainer } = await import("../sandbox/agent-container")
    return new AgentContainer({
      docker,
      name: container,
      image: agentPlan.image,
      labels: { ...agentPlan.labels, [LABEL.session]: stats.id },
      mounts: agentPlan.mounts,
      env,
      // Host networking: the agent's MCP bridge and hooks reach the daemon where it listens (loopback).
      networkMode: "host",
      claude: agentPlan.command[0]!,
      sessionDir: agentPlan.sessionDir,
      onGone: (e) => recordSessionEnd(stats, { exitCode: e.code }),
    })
  }
}

/** managed-mcp.json with the agent's cca bridge next to exactly the effective servers (Claude Code takes no other MCP config beside a managed one). */
function withBridge(plan: LaunchPlan, bridge: Record<string, unknown> | undefined): LaunchPlan["files"] {
  if (!bridge) return plan.files
  return plan.files.map((f) => {
    if (f.path !== `${CLAUDE_MANAGED_DIR}/managed-mcp.json`) return f
    const mcp = JSON.parse(f.content) as { mcpServers: Record<string, unknown> }
    if (BRIDGE in mcp.mcpServers) {
      throw new ConfigError(`the effective config has an MCP server named ${BRIDGE}, the name of the agent's own bridge to the daemon`, {
        hint: `rename that server in the org config, or run the agents without the cca MCP bridge`,
      })
    }
    mcp.mcpServers[BRIDGE] = bridge
    return { ...f, content: `${JSON.stringify(mcp, null, 2)}\n`, why: `${f.why}, plus the agent's cca bridge to the daemon` }
  })
}
