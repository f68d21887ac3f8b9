import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { writeJsonAtomic } from "../files"
import * as flag from "../flag"
import { log } from "../log"
import { AgentStartError } from "./errors"
import { prepareConfigHome } from "./home"
import { HOOK_TOKEN_ENV, hookSettings } from "./hooks"
import { mcpConfig } from "./mcp-config"
import { permissionArgs } from "./permissions"
import type { AgentOptions, DriverName } from "./types"

// The command line and environment of one agent, shared by both drivers.
// Files it needs (MCP config, settings) go into the agent's state directory
// and are passed by path, so the command line stays short and readable in
// /proc; nothing secret goes into them (the hook token is an env var).

export type Launch = {
  argv: string[]
  env: Record<string, string>
  cwd: string
  sessionId: string
  resumed: boolean
  configDir: string
  /** pty: the SessionStart hook writes its input here once the UI is up. */
  readyFile: string
  warnings: string[]
}

export const STREAM_ARGS = ["-p", "--input-format", "stream-json", "--output-format", "stream-json", "--verbose"]

// Set in the environment of a process that runs inside Claude Code; inherited
// by an agent they would make it believe it is a nested session.
const NESTED_SESSION_VARS = ["CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT", "CLAUDE_CODE_SSE_PORT"]

export async function prepareLaunch(o: AgentOptions, driver: DriverName): Promise<Launch> {
  const configDir = join(o.stateDir, "claude")
  const readyFile = join(o.stateDir, "session-start.json")
  mkdirSync(o.stateDir, { recursive: true, mode: 0o700 })

  // A container host gets the agent's own variables only, never the daemon's whole environment.
  const inherit = o.host?.inheritEnv ?? true
  const env: Record<string, string> = inherit ? { ...flag.processEnv() } : {}
  for (const name of NESTED_SESSION_VARS) delete env[name]
  Object.assign(env, { DISABLE_AUTOUPDATER: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" }, o.env, { CLAUDE_CONFIG_DIR: configDir, CCA_AGENT_ID: o.id })
  if (driver === "pty") env.TERM = env.TERM && env.TERM !== "dumb" ? env.TERM : "xterm-256color"

  const servers = Object.keys(o.mcpServers ?? {})
  const perms = permissionArgs(o.permissions, o.role, { mcpServers: servers, workdir: o.cwd })
  const apiKey = env.ANTHROPIC_API_KEY ?? (inherit ? undefined : flag.envVar("ANTHROPIC_API_KEY"))
  await prepareConfigHome({ dir: configDir, cwd: o.cwd, apiKey, dangerous: perms.mode === "dangerous" })

  const claude = o.host?.claude ?? Bun.which(o.claudePath ?? "claude", { PATH: env.PATH ?? "" })
  if (!claude) {
    throw new AgentStartError(`agent ${o.id}: cannot find the claude executable ${JSON.stringify(o.claudePath ?? "claude")}`, {
      hint: "install Claude Code (npm install -g @anthropic-ai/claude-code) or configure the path of claude",
    })
  }
  const sessionId = o.resumeSessionId ?? crypto.randomUUID()
  const argv = [claude]
  if (driver === "stream") argv.push(...STREAM_ARGS)
  argv.push(...(o.resumeSessionId ? ["--resume", sessionId] : ["--session-id", sessionId]))
  if (o.model) argv.push("--model", o.model)
  if (o.appendSystemPrompt) argv.push("--append-system-prompt", o.appendSystemPrompt)

  // A host with a managed MCP config (a governed container) carries the servers there.
  if (o.host?.mcpFlags ?? true) {
    const mcpFile = join(o.stateDir, "mcp.json")
    writeJsonAtomic(mcpFile, mcpConfig(o.mcpServers ?? {}))
    argv.push("--mcp-config", mcpFile, "--strict-mcp-config")
  }

  if (driver === "pty") {
    if (!o.hooks) throw new Error("the pty driver needs options.hooks (where Claude Code's hooks post)")
    const settingsFile = join(o.stateDir, "settings.json")
    writeJsonAtomic(settingsFile, hookSettings(o.hooks, o.id, readyFile))
    argv.push("--settings", settingsFile)
    if (o.hooks.token) env[HOOK_TOKEN_ENV] = o.hooks.token
  }
  // Permission flags last: --allowedTools / --disallowedTools take every argument up to the next flag.
  argv.push(...perms.args)

  const warn = o.warn ?? ((m: string) => log().warn(m))
  for (const w of perms.warnings) warn(w)
  return { argv, env, cwd: o.cwd, sessionId, resumed: o.resumeSessionId !== undefined, configDir, readyFile, warnings: perms.warnings }
}
