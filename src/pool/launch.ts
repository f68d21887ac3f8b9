import { AgentStartError } from "../agent/errors"
import { selfCommand } from "../agent/mcp-config"
import { localHost } from "../agent/process"
import { listedHost } from "../agent/reaper"
import type { AgentOptions, McpServerSpec } from "../agent/types"
import type { Logger } from "../log"
import { sandboxOf, type PoolOptions } from "./options"
import type { AgentSandboxes } from "./sandbox"
import type { Slot } from "./slot"

// What one start of an agent gets (src/agent's options), from the pool's
// options and the slot. How the agent reaches the daemon (URL, ACP URL, key)
// goes into its environment, which Claude Code passes on to its MCP servers:
// never onto a command line or into the MCP config file.

export function agentOptions(o: PoolOptions, slot: Slot, warn: (message: string) => void): AgentOptions {
  const link = o.link?.()
  const env: Record<string, string> = { ...o.env }
  if (link?.daemonUrl) env.CCA_DAEMON_URL = link.daemonUrl
  if (link?.acpUrl) env.CCA_ACP_URL = link.acpUrl
  if (link?.apiKey) env.CCA_API_KEY = link.apiKey
  const mcpServers: Record<string, McpServerSpec> = {}
  if (o.mcpCommand !== null) {
    const [command, ...rest] = o.mcpCommand ?? selfCommand()
    mcpServers.cca = { command: command!, args: [...rest, "mcp", "--agent", slot.id, "--role", slot.role] }
  }
  return {
    id: slot.id,
    role: slot.role,
    driver: slot.driver,
    cwd: slot.cwd,
    stateDir: slot.stateDir,
    claudePath: o.claudePath,
    model: o.model,
    appendSystemPrompt: slot.rolePrompt,
    permissions: o.permissions,
    mcpServers,
    env,
    hooks: slot.driver === "pty" && o.hookUrl ? { url: o.hookUrl(slot.id), token: link?.apiKey } : undefined,
    terminal: { ...slot.size, bufferSize: o.terminalBufferBytes },
    readyTimeoutMs: o.readyTimeoutMs,
    stopTimeoutMs: o.stopTimeoutMs,
    warn,
  }
}

/** A failed start names what the agent printed last in its message too, so a person sees it without asking for details. */
export function withLastOutput(e: unknown): unknown {
  if (!(e instanceof AgentStartError)) return e
  const details = (e.details ?? {}) as { lastOutput?: string }
  const tail = details.lastOutput?.trim().split("\n").slice(-5).join(" | ").slice(-400)
  if (!tail) return e
  return new AgentStartError(`${e.message}; its last output: ${tail}`, { hint: e.hint, details: e.details, cause: e })
}

/**
 * The options of one start; a sandboxed role's agent also gets its container
 * host, decided by governance now (a refusal throws before anything runs).
 * src/pool/sandbox.ts (and dockerode, governance) load only when a role is sandboxed.
 */
export async function startOptions(o: PoolOptions, slot: Slot, log: Logger, sandboxes: { get(): Promise<AgentSandboxes> }): Promise<AgentOptions> {
  const opts = agentOptions(o, slot, (m) => log.warn(m))
  if (sandboxOf(o, slot.role) !== "docker") {
    slot.container = undefined
    return o.pidDir ? { ...opts, host: listedHost(localHost, o.pidDir) } : opts
  }
  const host = await (await sandboxes.get()).host(slot, opts.mcpServers?.cca)
  slot.container = host.where.replace(/^container /, "")
  return { ...opts, host }
}

/** The pool's sandboxes, made on first use. */
export function lazySandboxes(o: PoolOptions, log: Logger): { get(): Promise<AgentSandboxes> } {
  let made: Promise<AgentSandboxes> | undefined
  return {
    get: () =>
      (made ??= import("./sandbox").then(
        ({ AgentSandboxes }) =>
          new AgentSandboxes({
            team: o.sandboxTeam,
            org: o.sandboxOrg,
            image: o.sandboxImage,
            mountClaude: o.sandboxMountClaude ?? false,
            claudePath: Bun.which(o.claudePath) ?? o.claudePath,
            owner: o.owner ?? "local",
            engine: o.engine,
            log,
          }),
      )),
  }
}
