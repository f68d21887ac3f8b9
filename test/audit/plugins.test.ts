import { expect, test } from "bun:test"
import { join } from "node:path"
import { auditFailed, auditPlugins } from "../../src/audit/plugins"
import { readRegistry } from "../../src/audit/registry"
import { tmpdir } from "../support/tmpdir"
import { pluginHome, write } from "./fixtures"

test("each manifest gets a status: parsed, missing, malformed (line and column), unreadable", async () => {
  await using tmp = await tmpdir()
  const f = pluginHome(tmp.path)
  const r = await auditPlugins(f.registry)
  expect(r.schemaVersion).toBe(1)
  expect(r.registry).toEqual({ path: f.registry, status: "parsed", format: "v2" })
  const by = (id: string, scope = "user") => r.plugins.find((p) => p.id === id && p.scope === scope)!

  const good = by("good@acme")
  expect(good.status).toBe("ok")
  expect([good.manifests.plugin.status, good.manifests.mcp.status, good.manifests.hooks.status]).toEqual(["parsed", "parsed", "parsed"])
  expect(good.mcp_servers).toEqual([
    { name: "docs", type: "http", url: "https://docs.example.com/mcp", source: join(f.root("good@acme"), ".mcp.json") },
    { name: "local", type: "stdio", command: "${CLAUDE_PLUGIN_ROOT}/bin/server", source: join(f.root("good@acme"), ".mcp.json") },
  ])
  expect(good.hooks.map((h) => [h.event, h.matcher, h.type, h.command])).toEqual([
    ["PostToolUse", "Write|Edit", "command", "${CLAUDE_PLUGIN_ROOT}/fmt.sh"],
    ["SessionStart", null, "command", "echo hi"],
  ])
  expect(by("good@acme", "project").projectPath).toBe("/work/app")

  const bare = by("bare@acme")
  expect([bare.manifests.plugin.status, bare.manifests.mcp.status, bare.manifests.hooks.status]).toEqual(["missing", "parsed", "missing"])
  expect(bare.mcp_servers.map((s) => [s.name, s.type])).toEqual([["events", "sse"]])
  expect(bare.status).toBe("ok")

  const broken = by("broken@acme")
  expect(broken.status).toBe("error")
  expect(broken.manifests.plugin).toMatchObject({ status: "malformed", line: 3, column: 1 })
  expect(broken.manifests.plugin.error).toContain("trailing comma")
  expect(broken.manifests.hooks).toMatchObject({ status: "malformed", line: 2, column: 12 })

  const locked = by("locked@acme")
  expect(locked.status).toBe("error")
  expect(locked.manifests.hooks.status).toBe("unreadable")
  expect(locked.manifests.hooks.error).toContain("EISDIR")

  const inline = by("inline@tools")
  expect(inline.mcp_servers).toEqual([{ name: "db", type: "stdio", command: "npx", source: join(f.root("inline@tools"), ".claude-plugin", "plugin.json") }])
  expect(inline.manifests.extra).toEqual([{ path: join(f.root("inline@tools"), "config", "hooks.json"), status: "parsed" }])
  expect(inline.hooks.map((h) => [h.event, h.type])).toEqual([["Stop", "prompt"]])

  const ghost = by("ghost@acme")
  expect(ghost.status).toBe("ok")
  expect(ghost.warnings[0]).toContain("does not exist")

  expect(r.summary).toEqual({
    plugins: 7,
    ok: 5,
    errors: 2,
    manifests: { parsed: 10, missing: 9, malformed: 2, unreadable: 1 },
    mcp_servers: 6,
    hooks: 5,
  })
  expect(auditFailed(r)).toBe(true)
})

test("the version 1 map and the old list form are read too", async () => {
  await using tmp = await tmpdir()
  const v1 = join(tmp.path, "v1.json")
  write(v1, JSON.stringify({ version: 1, plugins: { "fmt@acme": { version: "2.0.0", installedAt: "x", installPath: "/opt/fmt" } } }))
  expect(await readRegistry(v1)).toEqual({
    manifest: { path: v1, status: "parsed", format: "v1" },
    plugins: [{ id: "fmt@acme", name: "fmt", marketplace: "acme", scope: null, version: "2.0.0", installPath: "/opt/fmt" }],
  })
  const list = join(tmp.path, "list.json")
  write(list, JSON.stringify([{ name: "lint", marketplace: "acme", path: "/opt/lint", version: "0.1.0" }, { id: "x@y", installPath: "/opt/x" }, "junk"]))
  expect((await readRegistry(list)).plugins.map((p) => [p.id, p.name, p.marketplace, p.installPath])).toEqual([
    ["lint@acme", "lint", "acme", "/opt/lint"],
    ["x@y", "x", "y", "/opt/x"],
  ])
  const wrapped = join(tmp.path, "wrapped.json")
  write(wrapped, JSON.stringify({ plugins: [{ name: "solo", installPath: "/opt/solo" }] }))
  expect(await readRegistry(wrapped)).toMatchObject({ manifest: { format: "list" }, plugins: [{ id: "solo", marketplace: null }] })
})

test("a missing registry means nothing installed; a malformed one fails the audit", async () => {
  await using tmp = await tmpdir()
  const none = await auditPlugins(join(tmp.path, "nope.json"))
  expect(none.registry.status).toBe("missing")
  expect(none.plugins).toEqual([])
  expect(auditFailed(none)).toBe(false)

  const bad = join(tmp.path, "bad.json")
  write(bad, '{"version": 2, "plugins": {\n  "a@b": [\n}')
  const r = await auditPlugins(bad)
  expect(r.registry).toMatchObject({ status: "malformed", line: 3, column: 1 })
  expect(auditFailed(r)).toBe(true)

  const wrongShape = join(tmp.path, "shape.json")
  write(wrongShape, '{"version": 2, "plugins": 7}')
  expect((await auditPlugins(wrongShape)).registry).toMatchObject({ status: "malformed", line: 1, column: 1 })
})
