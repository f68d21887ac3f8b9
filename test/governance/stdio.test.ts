import { expect, test } from "bun:test"
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { realHost, resolveReal, stdioGate } from "../../src/governance/stdio"
import { tmpdir } from "../support/tmpdir"

// Real files and symlinks: the gate must follow them the way the kernel would.
async function fixture() {
  const tmp = await tmpdir()
  const tools = join(tmp.path, "opt", "tools")
  const outside = join(tmp.path, "outside")
  mkdirSync(tools, { recursive: true })
  mkdirSync(outside, { recursive: true })
  for (const f of [join(tools, "good"), join(outside, "evil")]) {
    writeFileSync(f, "#!/bin/sh\n")
    chmodSync(f, 0o755)
  }
  symlinkSync(join(outside, "evil"), join(tools, "escape")) // a symlink inside the prefix that leads out
  symlinkSync(outside, join(tools, "outdir")) // a directory symlink leading out
  symlinkSync(tools, join(tmp.path, "tools-link")) // a prefix given through a symlink
  return { tmp, tools, outside }
}

const allow = (prefixes: string[]) => ({ allow_stdio_mcp: true, allowed_stdio_prefixes: prefixes })

test("the gate runs in order: disabled, then absolute, then prefixes", async () => {
  const { tmp, tools } = await fixture()
  await using _ = tmp
  const host = realHost()
  // disabled wins even for a relative command outside every prefix
  expect(stdioGate("x", "node", { allow_stdio_mcp: false, allowed_stdio_prefixes: [tools] }, host)).toEqual({
    blocked: "stdio MCP servers are disabled (security.allow_stdio_mcp: false)",
  })
  expect(stdioGate("x", "node", allow([tools]), host)).toEqual({ blocked: "stdio command 'node' is not an absolute path" })
  expect(stdioGate("x", "./tools/good", allow([]), host)).toEqual({ blocked: "stdio command './tools/good' is not an absolute path" })
  expect(stdioGate("x", join(tools, "good"), allow([tools]), host)).toEqual({})
  expect(stdioGate("x", "/bin/sh", allow([]), host)).toEqual({}) // no prefixes: any absolute command
})

test("symlinks and .. that lead out of a prefix are blocked, with the real path in the reason", async () => {
  const { tmp, tools, outside } = await fixture()
  await using _ = tmp
  const host = realHost()
  const viaFile = stdioGate("x", join(tools, "escape"), allow([tools]), host)
  expect(viaFile.blocked).toBe(`stdio command '${join(tools, "escape")}' (real path '${join(outside, "evil")}') is outside security.allowed_stdio_prefixes ('${tools}')`)
  expect(stdioGate("x", join(tools, "outdir", "evil"), allow([tools]), host).blocked).toContain(`real path '${join(outside, "evil")}'`)
  const dotdot = `${tools}/../../outside/evil`
  expect(stdioGate("x", dotdot, allow([tools]), host).blocked).toContain(`real path '${join(outside, "evil")}'`)
  // a sibling directory sharing the prefix's name as a string prefix is not inside it
  mkdirSync(`${tools}-evil`)
  writeFileSync(`${tools}-evil/x`, "")
  expect(stdioGate("x", `${tools}-evil/x`, allow([tools]), host).blocked).toBeDefined()
})

test("a prefix is compared by its real path too", async () => {
  const { tmp, tools } = await fixture()
  await using _ = tmp
  const host = realHost()
  expect(stdioGate("x", join(tools, "good"), allow([join(tmp.path, "tools-link")]), host)).toEqual({})
  expect(stdioGate("x", join(tmp.path, "tools-link", "good"), allow([tools]), host)).toEqual({})
  expect(stdioGate("x", join(tools, "good"), allow([`${tools}/`]), host)).toEqual({})
})

test("a command missing on this host is a warning, never a block, unless it would lie outside the prefixes", async () => {
  const { tmp, tools } = await fixture()
  await using _ = tmp
  const host = realHost()
  expect(stdioGate("srv", join(tools, "missing"), allow([tools]), host)).toEqual({
    warning: `MCP server 'srv': stdio command '${join(tools, "missing")}' does not exist on this host`,
  })
  expect(stdioGate("srv", "/no/such/dir/tool", allow([]), host)).toEqual({ warning: "MCP server 'srv': stdio command '/no/such/dir/tool' does not exist on this host" })
  // missing, but the existing part already leads out through a symlink
  expect(stdioGate("srv", join(tools, "outdir", "missing"), allow([tools]), host).blocked).toBeDefined()
  // missing directory then .. back out: resolved as written after the missing part
  expect(stdioGate("srv", `${tools}/nope/../../x`, allow([tools]), host).blocked).toBeDefined()
})

test("resolveReal resolves the deepest existing ancestor", async () => {
  const { tmp, tools, outside } = await fixture()
  await using _ = tmp
  const host = realHost()
  expect(resolveReal(join(tools, "outdir", "a", "b"), host)).toEqual({ real: join(outside, "a", "b"), exists: false })
  expect(resolveReal(join(tools, "escape"), host)).toEqual({ real: join(outside, "evil"), exists: true })
})
