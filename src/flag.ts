// The only module that reads process.env. Everything is read at call time so
// tests (and the preload that points HOME/XDG_* at a temp dir) see fresh values.

const env = process.env

function read(name: string): string | undefined {
  const value = env[name]
  return value === undefined || value === "" ? undefined : value
}

/** A variable named by the user, e.g. an `env:VAR` auth spec. */
export function envVar(name: string): string | undefined {
  return read(name)
}

/** A copy of the environment, for child processes that must inherit it. */
export function processEnv(): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v
  return out
}

/** All variables whose name starts with a prefix (CCA__SECTION__KEY overrides). */
export function envWithPrefix(prefix: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(env)) if (v !== undefined && k.startsWith(prefix)) out[k] = v
  return out
}

export const home = () => read("HOME") ?? (require("node:os") as typeof import("node:os")).homedir()
export const xdgConfigHome = () => read("XDG_CONFIG_HOME")
export const xdgCacheHome = () => read("XDG_CACHE_HOME")
export const xdgDataHome = () => read("XDG_DATA_HOME")
export const xdgStateHome = () => read("XDG_STATE_HOME")

/** Which name the program answers to when it cannot tell from argv0 (running from source). */
export const programOverride = () => read("SCC_PROG")
export const logLevel = () => read("SCC_LOG_LEVEL")
/** Size at which a log file is rotated (bytes; default 10 MiB). */
export const logMaxBytes = () => read("CCA_LOG_MAX_BYTES")
export const traceStartup = () => read("SCC_TRACE_STARTUP") === "1"
export const noColor = () => read("NO_COLOR") !== undefined || read("TERM") === "dumb"
export const isCI = () => read("CI") === "true" || read("CI") === "1"

// scc
export const sccOrgSource = () => read("SCC_ORG_SOURCE")
/** An auth spec (`env:VAR` / `command:CMD`) for SCC_ORG_SOURCE; never a token. */
export const sccOrgAuth = () => read("SCC_ORG_AUTH")
/** Seconds to wait for the org config host (default 10). */
export const sccOrgTimeout = () => read("SCC_ORG_TIMEOUT")
export const sccTeam = () => read("SCC_TEAM")
export const sccOffline = () => read("SCC_OFFLINE") === "1"
export const sccUser = () => read("SCC_USER") ?? read("USER") ?? read("LOGNAME")

// cca
export const ccaConfig = () => read("CCA_CONFIG")
export const ccaDaemonUrl = () => read("CCA_DAEMON_URL")
export const ccaApiKey = () => read("CCA_API_KEY")
/** The daemon's ACP WebSocket URL, where the address it reports is not the one to dial. */
export const ccaAcpUrl = () => read("CCA_ACP_URL")

// Opening the dashboard (`cca ui`): a display to open a browser on, or the user's choice of browser.
export const display = () => read("DISPLAY") ?? read("WAYLAND_DISPLAY")
export const browser = () => read("BROWSER")

// Claude Code
/** Claude Code's config home (default ~/.claude); its user config is then $CLAUDE_CONFIG_DIR/.claude.json. */
export const claudeConfigDir = () => read("CLAUDE_CONFIG_DIR")

// Docker / container engine
export const dockerHost = () => read("DOCKER_HOST")
export const xdgRuntimeDir = () => read("XDG_RUNTIME_DIR")
