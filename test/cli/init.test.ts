import { expect, test } from "bun:test"
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { PROJECT_TEMPLATE } from "../../src/org/init"
import { loadProjectConfig } from "../../src/org/project"
import { ProjectConfig } from "../../src/org/schema"
import { cli } from "../support/cli"
import { tmpdir } from "../support/tmpdir"

type Node = { type: string; entries?: Record<string, Node>; wrapped?: Node; item?: Node; value?: Node }
const unwrap = (n: Node): Node => (n.wrapped ? unwrap(n.wrapped) : n)

/**
 * Every key the template mentions, commented examples included, checked
 * against ProjectConfig at its place in the nesting (from the indentation).
 * Keys inside a record (headers, env) are data, not schema keys.
 */
function unknownTemplateKeys(template: string): string[] {
  const unknown: string[] = []
  const stack: { indent: number; node: Node | null; path: string }[] = [{ indent: -1, node: unwrap(ProjectConfig as unknown as Node), path: "" }]
  for (const raw of template.split("\n")) {
    const line = raw.replace(/^# ?/, "")
    const m = /^(\s*)(- )?([A-Za-z_][\w-]*):(\s|$)/.exec(line)
    if (!m) continue
    const indent = m[1]!.length + (m[2] ? 2 : 0)
    while (stack.at(-1)!.indent >= indent) stack.pop()
    const parent = stack.at(-1)!
    let node: Node | null = null
    const path = `${parent.path}${parent.path ? "." : ""}${m[3]}`
    if (parent.node?.type === "record") node = null
    else if (parent.node?.entries) {
      const child = parent.node.entries[m[3]!]
      if (!child) unknown.push(path)
      else {
        node = unwrap(child)
        if (node.item) node = unwrap(node.item)
      }
    }
    stack.push({ indent, node, path })
  }
  return unknown
}

test("the template's keys, commented examples included, all exist in ProjectConfig", () => {
  expect(unknownTemplateKeys(PROJECT_TEMPLATE)).toEqual([])
  // the checker itself catches a wrong key, nested or not
  expect(unknownTemplateKeys(`${PROJECT_TEMPLATE}# session:\n#   timeout_minutes: 5\n# plugins: []\n`)).toEqual(["session.timeout_minutes", "plugins"])
  expect(unknownTemplateKeys("additional_mcp_servers:\n  - name: a\n    transport: http\n")).toEqual(["additional_mcp_servers.transport"])
})

test("init writes the template at the repository root; it parses back with no warnings", async () => {
  await using repo = await tmpdir({ git: true })
  mkdirSync(join(repo.path, "src", "deep"), { recursive: true })
  const r = await cli(["init", "--json"], { cwd: join(repo.path, "src", "deep") })
  expect(r.code).toBe(0)
  const path = join(repo.path, ".scc.yaml")
  expect(r.json().data).toEqual({ path, overwritten: false })
  expect(readFileSync(path, "utf8")).toBe(PROJECT_TEMPLATE)
  expect(statSync(path).mode & 0o777).toBe(0o644)
  const loaded = await loadProjectConfig(repo.path)
  expect(loaded).not.toBeNull()
  expect(loaded!.warnings).toEqual([])
  expect(loaded!.config).toMatchObject({ additional_plugins: [], additional_mcp_servers: [] })
})

test("init refuses to overwrite without --force", async () => {
  await using repo = await tmpdir({ git: true })
  const path = join(repo.path, ".scc.yaml")
  writeFileSync(path, "additional_plugins: [mine@acme]\n")
  const r = await cli(["init"], { cwd: repo.path })
  expect(r.code).toBe(2)
  expect(r.stderr).toContain("Try: scc init --force")
  expect(readFileSync(path, "utf8")).toBe("additional_plugins: [mine@acme]\n")
  const forced = await cli(["init", "--force"], { cwd: repo.path })
  expect(forced.code).toBe(0)
  expect(forced.stdout).toContain(`Overwrote ${path}`)
  expect(readFileSync(path, "utf8")).toBe(PROJECT_TEMPLATE)
})
