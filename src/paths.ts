import { join } from "./posix-path"
import * as flag from "./flag"

// XDG base directories, resolved at call time.
const configHome = () => flag.xdgConfigHome() ?? join(flag.home(), ".config")
const cacheHome = () => flag.xdgCacheHome() ?? join(flag.home(), ".cache")
const dataHome = () => flag.xdgDataHome() ?? join(flag.home(), ".local", "share")

export const paths = {
  // scc: governance side
  sccConfigDir: () => join(configHome(), "scc"),
  sccConfigFile: () => join(configHome(), "scc", "config.json"),
  userExceptions: () => join(configHome(), "scc", "exceptions.json"),
  sccCacheDir: () => join(cacheHome(), "scc"),
  orgConfigCache: () => join(cacheHome(), "scc", "org_config.json"),
  orgConfigMeta: () => join(cacheHome(), "scc", "cache_meta.json"),
  usageFile: () => join(cacheHome(), "scc", "usage.jsonl"),

  // cca: daemon side
  ccaConfigDir: () => join(configHome(), "cca"),
  ccaConfigFile: () => join(configHome(), "cca", "cca.toml"),
  ccaDataDir: () => join(dataHome(), "cca"),
  pgDataDir: () => join(dataHome(), "cca", "pg"),
  runDir: () => join(dataHome(), "cca", "run"),

  // logs of both halves
  logDir: () => join(dataHome(), "cca", "logs"),
  cliLogFile: () => join(dataHome(), "cca", "logs", "cli.log"),
  daemonLogFile: () => join(dataHome(), "cca", "logs", "daemon.log"),
  /** One log file per process kind, shared (appended, rotated by size) by every process of that kind. */
  logFile: (kind: "cli" | "daemon" | "mcp" | "worker") => join(dataHome(), "cca", "logs", `${kind}.log`),

  // Claude Code's own files on the host
  claudeHome: () => join(flag.home(), ".claude"),
  claudePluginRegistry: () => join(flag.home(), ".claude", "plugins", "installed_plugins.json"),
}

/** Per-repository files. */
export const repoPaths = {
  projectConfig: (root: string) => join(root, ".scc.yaml"),
  repoExceptions: (root: string) => join(root, ".scc", "exceptions.json"),
}
