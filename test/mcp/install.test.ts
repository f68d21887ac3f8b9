import { afterEach, expect, test } from "bun:test"
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { pluginFiles, TOOL_PREFIX } from "../../src/mcp/plugin"
import { VERSION } from "../../src/version"
import { CLAUDE } from "../support/claude"
import { binary, cli } from "../support/cli"
import { git, tmpdir } from "../support/tmpdir"
import { childEnv, homeEnv } from "./support"

// `cca mcp install` and `cca plugin install` from the compiled binary,
// checked with the real Claude Code CLI reading what they wrote.

const PLUGIN_SRC = join(import.meta.dir, "..", "..", "plugin")
const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

async function sandbox(opts: { git?: boolean } = {}) {
  const tmp = await tmpdir({ prefix: "cca-mcp-install-" })
  cleanup.push(() => tmp[Symbol.asyncDispose]())
  const home = join(tmp.path, "home")
  mkdirSync(home)
  const env = childEnv({ ...homeEnv(home), DISABLE_TELEMETRY: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", DISABLE_AUTOUPDATER: "1" })
  const project = join(tmp.path, "project")
  mkdirSync(project)
  if (opts.git) git(project, "init", "-q")
  return { root: tmp.path, home, env, project }
}

function claude(args: string[], env: Record<string, string>, cwd: string) {
  const r = Bun.spawnSync([CLAUDE, ...args], { env, cwd, stdout: "pipe", stderr: "pipe", timeout: 60_000 })
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() }
}

function filesUnder(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(join(d, e.name)) : out.push(relative(dir, join(d, e.name)))
  }
  walk(dir)
  return out.sort()
}

test("the plugin embedded in the binary is the plugin/ folder, and Claude Code's validator passes it", async () => {
  const embedded = pluginFiles(["cca"])
  expect(Object.keys(embedded).sort()).toEqual(filesUnder(PLUGIN_SRC))
  for (const [path, content] of Object.entries(embedded)) {
    const onDisk = readFileSync(join(PLUGIN_SRC, path), "utf8")
    if (path.endsWith(".json")) expect(JSON.parse(content), path).toEqual(JSON.parse(onDisk))
    else expect(content, path).toBe(onDisk)
  }
  expect(JSON.parse(embedded[".claude-plugin/plugin.json"]!).version).toBe(VERSION)
  const s = await sandbox()
  const v = claude(["plugin", "validate", "--strict", PLUGIN_SRC], s.env, s.project)
  expect(v.out + v.err).toContain("✔ Validation passed")
  expect(v.code).toBe(0)
  // Every tool a slash command allows exists under the prefix Claude Code gives plugin tools.
  for (const [path, content] of Object.entries(embedded).filter(([p]) => p.startsWith("commands/"))) {
    const allowed = /^allowed-tools: (.+)$/m.exec(content)![1]!.split(",").map((s) => s.trim())
    // Under the plugin's prefix, and under mcp__cca__ for when `cca mcp install` registered the same server (Claude Code then drops the plugin's copy).
    for (const tool of allowed) expect(tool, path).toMatch(new RegExp(`^(${TOOL_PREFIX}|mcp__cca__)cca_(task|status|agents|workloads|memory)$`))
    const plugin = allowed.filter((t) => t.startsWith(TOOL_PREFIX)).map((t) => t.slice(TOOL_PREFIX.length))
    expect(allowed.filter((t) => t.startsWith("mcp__cca__")).map((t) => t.slice("mcp__cca__".length)), path).toEqual(plugin)
  }
})

test("cca plugin install (user scope) writes the plugin into Claude Code's skills dir, running this binary", async () => {
  const s = await sandbox()
  const r = await cli(["plugin", "install", "--json"], { env: s.env, cwd: s.project })
  expect(r.code).toBe(0)
  const dir = join(s.home, ".claude", "skills", "cca")
  expect(r.json().data).toMatchObject({ dir, scope: "user", replaced: false, plugin: "cca@skills-dir", toolPrefix: "mcp__plugin_cca_cca__" })
  expect(filesUnder(dir)).toEqual(filesUnder(PLUGIN_SRC))
  const mcp = JSON.parse(readFileSync(join(dir, ".mcp.json"), "utf8"))
  expect(mcp).toEqual({ mcpServers: { cca: { command: readlinkTarget(binary("cca")), args: ["mcp"] } } })
  const v = claude(["plugin", "validate", "--strict", dir], s.env, s.project)
  expect(v.code).toBe(0)
  // Again: replaced in place, nothing left beside it.
  const again = await cli(["plugin", "install", "--json", "--command", "cca"], { env: s.env, cwd: s.project })
  expect(again.json().data.replaced).toBe(true)
  expect(JSON.parse(readFileSync(join(dir, ".mcp.json"), "utf8")).mcpServers.cca.command).toBe("cca")
  expect(readdirSync(join(s.home, ".claude", "skills"))).toEqual(["cca"])
})

test("cca plugin install --scope project writes <repo>/.claude/skills/cca, found from a subdirectory", async () => {
  const s = await sandbox({ git: true })
  const sub = join(s.project, "src", "deep")
  mkdirSync(sub, { recursive: true })
  const r = await cli(["plugin", "install", "--scope", "project"], { env: s.env, cwd: sub })
  expect(r.code).toBe(0)
  expect(r.stdout).toContain("installed the cca plugin (project scope)")
  expect(filesUnder(join(s.project, ".claude", "skills", "cca"))).toEqual(filesUnder(PLUGIN_SRC))
})

test("cca plugin install leaves a foreign folder at its place alone, and honours CLAUDE_CONFIG_DIR", async () => {
  const s = await sandbox()
  const foreign = join(s.home, ".claude", "skills", "cca")
  mkdirSync(join(foreign, ".claude-plugin"), { recursive: true })
  writeFileSync(join(foreign, ".claude-plugin", "plugin.json"), '{"name":"someone-elses"}')
  const r = await cli(["plugin", "install"], { env: s.env, cwd: s.project })
  expect(r.code).toBe(3)
  expect(r.stderr).toContain(`${foreign} exists and is not the cca plugin; it was left as it is\nTry: move ${foreign} away`)
  expect(readFileSync(join(foreign, ".claude-plugin", "plugin.json"), "utf8")).toBe('{"name":"someone-elses"}')
  const cfg = join(s.root, "claude-config")
  const ok = await cli(["plugin", "install", "--json"], { env: { ...s.env, CLAUDE_CONFIG_DIR: cfg }, cwd: s.project })
  expect(ok.json().data.dir).toBe(join(cfg, "skills", "cca"))
  const bad = await cli(["plugin", "install", "--scope", "team"], { env: s.env, cwd: s.project })
  expect(bad.code).toBe(2)
  expect(bad.stderr).toContain("--scope must be user or project, not team")
})

test("cca mcp install writes mcpServers of ~/.claude.json, keeping the rest, and Claude Code reads it", async () => {
  const s = await sandbox()
  const file = join(s.home, ".claude.json")
  const before = { hasCompletedOnboarding: true, projects: { "/x": { allowedTools: ["Read"] } }, mcpServers: { other: { type: "stdio", command: "/bin/other", args: [], env: {} } } }
  writeFileSync(file, JSON.stringify(before), { mode: 0o640 })
  const r = await cli(["mcp", "install", "--json"], { env: s.env, cwd: s.project })
  expect(r.code).toBe(0)
  expect(r.json().data).toMatchObject({ file, name: "cca", scope: "user", replaced: false, toolPrefix: "mcp__cca__" })
  const after = JSON.parse(readFileSync(file, "utf8"))
  expect(after).toEqual({ ...before, mcpServers: { ...before.mcpServers, cca: { type: "stdio", command: readlinkTarget(binary("cca")), args: ["mcp"], env: {} } } })
  expect(statSync(file).mode & 0o777).toBe(0o640)
  const got = claude(["mcp", "get", "cca"], s.env, s.project)
  expect(got.out).toContain("Scope: User config")
  expect(got.out).toContain(`Command: ${readlinkTarget(binary("cca"))}`)
  expect(got.out).toContain("Args: mcp")
  // Installing again replaces the entry, and a second name sits beside it.
  expect((await cli(["mcp", "install", "--json", "--command", "cca"], { env: s.env })).json().data.replaced).toBe(true)
  await cli(["mcp", "install", "--name", "cca-dev"], { env: s.env })
  expect(Object.keys(JSON.parse(readFileSync(file, "utf8")).mcpServers)).toEqual(["other", "cca", "cca-dev"])
})

test("cca mcp install: CLAUDE_CONFIG_DIR, project scope, a symlinked config, and a broken one left untouched", async () => {
  const s = await sandbox({ git: true })
  const cfg = join(s.root, "cfg")
  const viaDir = await cli(["mcp", "install", "--json"], { env: { ...s.env, CLAUDE_CONFIG_DIR: cfg } })
  expect(viaDir.json().data.file).toBe(join(cfg, ".claude.json"))
  expect(claude(["mcp", "get", "cca"], { ...s.env, CLAUDE_CONFIG_DIR: cfg }, s.project).out).toContain("Scope: User config")

  const sub = join(s.project, "pkg")
  mkdirSync(sub)
  const proj = await cli(["mcp", "install", "--scope", "project", "--json"], { env: s.env, cwd: sub })
  expect(proj.json().data.file).toBe(join(s.project, ".mcp.json"))
  expect(JSON.parse(readFileSync(join(s.project, ".mcp.json"), "utf8")).mcpServers.cca.args).toEqual(["mcp"])

  const real = join(s.root, "dotfiles-claude.json")
  writeFileSync(real, '{"theme":"dark"}')
  symlinkSync(real, join(s.home, ".claude.json"))
  expect((await cli(["mcp", "install"], { env: s.env })).code).toBe(0)
  expect(lstatSync(join(s.home, ".claude.json")).isSymbolicLink()).toBe(true)
  expect(JSON.parse(readFileSync(real, "utf8"))).toMatchObject({ theme: "dark", mcpServers: { cca: { args: ["mcp"] } } })

  writeFileSync(real, '{"theme": "dark",')
  const broken = await cli(["mcp", "install"], { env: s.env })
  expect(broken.code).toBe(3)
  expect(broken.stderr).toContain(`${real} is not valid JSON`)
  expect(broken.stderr).toContain("it was left as it is")
  expect(readFileSync(real, "utf8")).toBe('{"theme": "dark",')
})

/** dist/cca is a symlink to dist/scc; the binary knows itself by the real path. */
function readlinkTarget(path: string): string {
  return lstatSync(path).isSymbolicLink() ? join(path, "..", readlinkSync(path)) : path
}

test("the plugin and `cca mcp install` together: each install says Claude Code keeps one and which to keep; alone, neither says so", async () => {
  const s = await sandbox()
  const plugin = await cli(["plugin", "install"], { env: s.env, cwd: s.project })
  expect(plugin.code).toBe(0)
  expect(plugin.stderr).not.toContain("Keep one")
  const server = await cli(["mcp", "install", "--json"], { env: s.env, cwd: s.project })
  expect(server.code).toBe(0)
  const [warning] = server.json().status.warnings as string[]
  const dir = join(s.home, ".claude", "skills", "cca")
  expect(warning).toContain(`the cca plugin (${dir}) and the MCP server "cca" in ${join(s.home, ".claude.json")} both run \`cca mcp\``)
  expect(warning).toContain("drops the plugin's copy and names the tools mcp__cca__*")
  expect(warning).toContain("Keep one: the plugin, for its /cca:* commands (`claude mcp remove cca --scope user`)")
  expect(warning).toContain(`or the server alone (\`rm -r ${dir}\`)`)
  // The advice is Claude Code's own command: it removes the entry, and the warning goes.
  const removed = claude(["mcp", "remove", "cca", "--scope", "user"], s.env, s.project)
  expect(removed.code, removed.err).toBe(0)
  expect((await cli(["plugin", "install"], { env: s.env, cwd: s.project })).stderr).not.toContain("Keep one")
  // The other order: the server first, then the plugin.
  await cli(["mcp", "install", "--name", "cca-tools"], { env: s.env, cwd: s.project })
  const again = await cli(["plugin", "install"], { env: s.env, cwd: s.project })
  expect(again.stderr).toContain('the MCP server "cca-tools"')
  expect(again.stderr).toContain("names the tools mcp__cca-tools__* (which the plugin's /cca:* commands do not allow: name it cca)")
})
