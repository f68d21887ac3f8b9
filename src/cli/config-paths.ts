import { existsSync } from "node:fs"
import { command } from "./common"
import { findRepoRoot } from "../git/root"
import { table } from "../output"
import { paths, repoPaths } from "../paths"
import { orgSettings } from "../org/settings"
import { resolveSource } from "../org/source"

type Entry = { name: string; path: string; access: "read" | "write" | "read/write"; exists: boolean }

export default command({
  meta: { name: "paths", description: "Every file scc and cca read or write, and whether it exists" },
  args: { workspace: { type: "string", description: "Workspace for the per-project files (default: the repository around the current directory)" } },
  async run(ctx, args) {
    const cwd = args.workspace ?? process.cwd()
    const root = findRepoRoot(cwd)?.root ?? cwd
    const entries: Omit<Entry, "exists">[] = [
      { name: "user config", path: paths.sccConfigFile(), access: "read/write" },
      { name: "user exceptions", path: paths.userExceptions(), access: "read/write" },
      { name: "org config cache", path: paths.orgConfigCache(), access: "read/write" },
      { name: "org config cache meta", path: paths.orgConfigMeta(), access: "read/write" },
      { name: "usage stats", path: paths.usageFile(), access: "read/write" },
      { name: "project config", path: repoPaths.projectConfig(root), access: "read" },
      { name: "repo exceptions", path: repoPaths.repoExceptions(root), access: "read/write" },
      { name: "claude plugin registry", path: paths.claudePluginRegistry(), access: "read" },
      { name: "cca config", path: paths.ccaConfigFile(), access: "read" },
      { name: "cca data", path: paths.ccaDataDir(), access: "read/write" },
      { name: "cli log", path: paths.cliLogFile(), access: "write" },
      { name: "daemon log", path: paths.daemonLogFile(), access: "write" },
      { name: "mcp log", path: paths.logFile("mcp"), access: "write" },
      { name: "worker log", path: paths.logFile("worker"), access: "write" },
    ]
    const { source } = await orgSettings()
    if (source !== undefined) {
      try {
        const resolved = resolveSource(source)
        if (resolved.kind === "file") entries.splice(2, 0, { name: "org config source", path: resolved.path, access: "read" })
      } catch {
        // an invalid source is reported by `config show`; paths lists files only
      }
    }
    const rows: Entry[] = entries.map((e) => ({ ...e, exists: existsSync(e.path) }))
    ctx.emit("ConfigPaths", { workspace: root, paths: rows }, (d) =>
      table(d.paths, [
        { header: "file", get: (r) => r.name },
        { header: "exists", get: (r) => (r.exists ? "yes" : "no") },
        { header: "access", get: (r) => r.access },
        { header: "path", get: (r) => r.path },
      ]),
    )
  },
})
