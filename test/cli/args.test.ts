import { expect, test } from "bun:test"
import { runCommand, type ArgsDef, type CommandDef } from "citty"
import { checkArgs, suggestFlag } from "../../src/cli/args-check"
import { root } from "../../src/cli/root"
import { cli } from "../support/cli"

// The CLI never loses what the user typed (issue 15): every command in the
// tree, under both names, refuses unknown flags, repeated single values and
// stray words with exit 2, before it does anything.

type Leaf = { path: string[]; cmd: CommandDef<any>; args: ArgsDef }

const resolve = async <T,>(v: T | (() => T | Promise<T>) | Promise<T>): Promise<T> => (typeof v === "function" ? await (v as () => T)() : await v)

async function leaves(cmd: CommandDef<any> = root, path: string[] = []): Promise<Leaf[]> {
  const subs = (await resolve(cmd.subCommands)) as Record<string, unknown> | undefined
  const out: Leaf[] = []
  if (cmd.run && path.length > 0) out.push({ path, cmd, args: ((await resolve(cmd.args)) ?? {}) as ArgsDef })
  for (const [name, sub] of Object.entries(subs ?? {})) out.push(...(await leaves((await resolve(sub)) as CommandDef<any>, [...path, name])))
  return out
}

/** The words a command needs before citty lets it run: its required positionals and options. */
function required(args: ArgsDef): string[] {
  const words: string[] = []
  for (const [name, def] of Object.entries(args)) {
    if (!(def as { required?: boolean }).required) continue
    if (def.type === "positional") words.push("x")
    else words.push(`--${name}`, def.type === "enum" ? String((def as { options: string[] }).options[0]) : "x")
  }
  return words
}

async function failure(leaf: Leaf, extra: string[]): Promise<string> {
  try {
    await runCommand(leaf.cmd, { rawArgs: [...required(leaf.args), ...extra] })
    return "(ran)"
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`
  }
}

const tree = await leaves()

test("the walk finds the whole tree", () => {
  expect(tree.length).toBeGreaterThan(60)
  for (const p of [["exceptions", "create"], ["task", "list"], ["daemon"], ["config", "explain"], ["stats"], ["mcp"]]) expect(tree.map((l) => l.path.join(" "))).toContain(p.join(" "))
})

test("every command refuses an unknown flag, naming it, with a suggestion when one is close", async () => {
  const wrong: string[] = []
  for (const leaf of tree) {
    const r = await failure(leaf, ["--definitely-not-a-flag"])
    if (!r.startsWith("usage: unknown flag --definitely-not-a-flag")) wrong.push(`${leaf.path.join(" ")}: ${r}`)
    const close = await failure(leaf, ["--jsno"])
    if (!close.includes("did you mean --json?")) wrong.push(`${leaf.path.join(" ")}: ${close}`)
  }
  expect(wrong).toEqual([])
})

test("every command refuses positional words it does not take; variadic ones take any", async () => {
  const wrong: string[] = []
  const variadic = new Set(["embeddings check", "stats aggregate", "rl params"])
  for (const leaf of tree) {
    const positionals = Object.values(leaf.args).filter((d) => d.type === "positional").length
    const optionalPositionals = Object.values(leaf.args).filter((d) => d.type === "positional" && !(d as { required?: boolean }).required).length
    const stray = Array.from({ length: optionalPositionals + 1 }, (_, i) => `stray${i}`)
    if (variadic.has(leaf.path.join(" "))) continue
    if (["mcp", "stats", "daemon"].includes(leaf.path.join(" "))) continue // a first word there names a subcommand
    const r = await failure(leaf, stray)
    const refused = r.startsWith("usage: ") && r.includes("unexpected 'stray")
    if (!refused) wrong.push(`${leaf.path.join(" ")} (${positionals} positional): ${r}`)
  }
  expect(wrong).toEqual([])
})

test("every single-value option given twice is an error; a list option accumulates", async () => {
  const wrong: string[] = []
  for (const leaf of tree) {
    for (const [name, def] of Object.entries(leaf.args)) {
      if (def.type !== "string" || (def as { multiple?: boolean }).multiple || (def as { required?: boolean }).required) continue
      const r = await failure(leaf, [`--${name}`, "1", `--${name}`, "2"])
      if (!r.startsWith(`usage: --${name} was given twice ('1' and '2')`)) wrong.push(`${leaf.path.join(" ")} --${name}: ${r}`)
    }
  }
  expect(wrong).toEqual([])
  const defs = { "allow-mcp": { type: "string" as const, multiple: true }, json: { type: "boolean" as const } }
  expect(checkArgs(defs, ["--allow-mcp", "a", "--allow-mcp=b", "--json"], { command: "t" }).lists).toEqual({ "allow-mcp": ["a", "b"] })
})

test("suggestions pick the nearest flag, and none when nothing is close", () => {
  expect(suggestFlag("tll", ["ttl", "reason", "until"])).toBe("ttl")
  expect(suggestFlag("resaon", ["ttl", "reason"])).toBe("reason")
  expect(suggestFlag("zzzzzz", ["ttl", "reason"])).toBeUndefined()
})

test("under both names: --tll is refused with exit 2 and writes no exception; two --allow-mcp make one exception with both", async () => {
  for (const name of ["scc", "cca"] as const) {
    const typo = await cli(["exceptions", "create", "--tll", "30m", "--reason", "r", "--allow-mcp", "a"], { name })
    expect(typo.code).toBe(2)
    expect(typo.stderr).toContain(`error: unknown flag --tll for ${name} exceptions create; did you mean --ttl?`)
    const list = await cli(["exceptions", "list", "--all", "--json"], { name })
    expect(JSON.stringify(list.json().data)).not.toContain('"scope":"user"')
    const stray = await cli(["daemon", "stop", "now"], { name })
    expect(stray.code).toBe(2)
    expect(stray.stderr).toContain(`${name} daemon stop takes no arguments; unexpected 'now'`)
    const unknown = await cli(["daemon", "halt"], { name })
    expect(unknown.code).toBe(2) // a word that names no subcommand never starts a daemon
    const limit = await cli(["task", "list", "--limit", "abc"], { name })
    expect(limit.code).toBe(2)
    expect(limit.stderr).toContain("--limit must be a whole number, not 'abc'")
    // Checked before any request: with no daemon anywhere, still a usage error (2), not "no daemon" (5).
    for (const args of [["tokens", "metrics", "--days", "abc"], ["memory", "search", "q", "--limit", "x"], ["memory", "list", "--limit", "x"], ["search-code", "q", "--limit", "1.5"]]) {
      const r = await cli(args, { name, env: { CCA_DAEMON_URL: "http://127.0.0.1:9" } })
      expect({ args, code: r.code }).toEqual({ args, code: 2 })
      expect(r.stderr).toContain("must be a whole number")
    }
  }
  const both = await cli(["exceptions", "create", "--ttl", "1h", "--reason", "r", "--allow-mcp", "a", "--allow-mcp", "b", "--json"])
  expect(both.code).toBe(0)
  expect(both.json().data.exception.allow).toEqual({ mcp_servers: ["a", "b"] })
  const twice = await cli(["exceptions", "create", "--ttl", "1h", "--ttl", "2h", "--reason", "r", "--allow-mcp", "a"])
  expect(twice.code).toBe(2)
  expect(twice.stderr).toContain("--ttl was given twice")
})
