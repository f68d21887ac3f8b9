import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"

// A Claude Code home with installed plugins, in the formats Claude Code writes:
// ~/.claude/plugins/installed_plugins.json (version 2) and one directory per
// installed plugin under ~/.claude/plugins/cache/<marketplace>/<name>/<version>.

export function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, text)
}

export type Fixture = { home: string; registry: string; root: (id: string) => string }

export function pluginHome(home: string): Fixture {
  const plugins = join(home, ".claude", "plugins")
  const root = (id: string) => {
    const [name, mp] = id.split("@")
    return join(plugins, "cache", mp!, name!, "1.0.0")
  }
  const ids = ["good@acme", "bare@acme", "broken@acme", "locked@acme", "inline@tools", "ghost@acme"]
  const registry = {
    version: 2,
    plugins: Object.fromEntries(
      ids.map((id) => [id, [{ scope: "user", installPath: root(id), version: "1.0.0", installedAt: "2025-01-01T00:00:00.000Z", lastUpdated: "2025-01-01T00:00:00.000Z" }]]),
    ),
  }
  // a second install of one plugin, in a project scope
  registry.plugins["good@acme"]!.push({ scope: "project", projectPath: "/work/app", installPath: root("good@acme"), version: "1.0.0" } as never)
  write(join(plugins, "installed_plugins.json"), JSON.stringify(registry, null, 2))

  // good: all three manifests, .mcp.json wrapped in mcpServers
  write(join(root("good@acme"), ".claude-plugin", "plugin.json"), JSON.stringify({ name: "good", version: "1.0.0", description: "d" }))
  write(
    join(root("good@acme"), ".mcp.json"),
    JSON.stringify({ mcpServers: { docs: { type: "http", url: "https://docs.example.com/mcp" }, local: { command: "${CLAUDE_PLUGIN_ROOT}/bin/server", args: ["--stdio"] } } }),
  )
  write(
    join(root("good@acme"), "hooks", "hooks.json"),
    JSON.stringify({
      description: "format on write",
      hooks: {
        PostToolUse: [{ matcher: "Write|Edit", hooks: [{ type: "command", command: "${CLAUDE_PLUGIN_ROOT}/fmt.sh", timeout: 30 }] }],
        SessionStart: [{ hooks: [{ type: "command", command: "echo hi" }] }],
      },
    }),
  )
  // bare: .mcp.json without the wrapper; no plugin.json, no hooks
  write(join(root("bare@acme"), ".mcp.json"), JSON.stringify({ events: { type: "sse", url: "https://events.example.com/sse" } }))
  // broken: a trailing comma in plugin.json (line 3, column 1), a bad value in hooks.json (line 2, column 12)
  write(join(root("broken@acme"), ".claude-plugin", "plugin.json"), '{\n  "name": "broken",\n}\n')
  write(join(root("broken@acme"), "hooks", "hooks.json"), '{\n  "hooks": nope\n}\n')
  // locked: hooks/hooks.json is a directory, so it cannot be read (chmod 000 would not stop root)
  write(join(root("locked@acme"), ".claude-plugin", "plugin.json"), '{"name":"locked"}')
  mkdirSync(join(root("locked@acme"), "hooks", "hooks.json"), { recursive: true })
  // inline: plugin.json declares its MCP servers inline and its hooks in another file
  write(
    join(root("inline@tools"), ".claude-plugin", "plugin.json"),
    JSON.stringify({ name: "inline", mcpServers: { db: { command: "npx", args: ["db-mcp"] } }, hooks: "./config/hooks.json" }),
  )
  write(join(root("inline@tools"), "config", "hooks.json"), JSON.stringify({ hooks: { Stop: [{ hooks: [{ type: "prompt", prompt: "check" }] }] } }))
  // ghost: registered, but its directory is gone
  return { home, registry: join(plugins, "installed_plugins.json"), root }
}
