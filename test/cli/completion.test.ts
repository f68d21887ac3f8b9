import { expect, test } from "bun:test"
import { join } from "node:path"
import { cli } from "../support/cli"
import { tmpdir } from "../support/tmpdir"

// Shell completions generated from the command tree, under both names.

async function bashComplete(script: string, prog: string, words: string[]): Promise<string[]> {
  await using tmp = await tmpdir()
  const file = join(tmp.path, "c.bash")
  await Bun.write(file, script)
  const line = [prog, ...words].map((w) => `'${w}'`).join(" ")
  const fn = `_${prog}_complete`
  const sh = `source '${file}'; COMP_WORDS=(${line}); COMP_CWORD=${words.length}; ${fn}; printf '%s\\n' "\${COMPREPLY[@]}"`
  const p = Bun.spawnSync(["bash", "-c", sh])
  expect(p.exitCode).toBe(0)
  return p.stdout.toString().split("\n").filter(Boolean)
}

test("bash completion completes subcommands and flags from the tree, under both names", async () => {
  for (const prog of ["scc", "cca"] as const) {
    const r = await cli(["completion", "bash"], { name: prog })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`complete -F _${prog}_complete ${prog}`)
    expect(await bashComplete(r.stdout, prog, ["exc"])).toEqual(["exceptions"])
    expect((await bashComplete(r.stdout, prog, ["exceptions", ""])).sort()).toEqual(expect.arrayContaining(["cleanup", "create", "delete", "list", "reset"]))
    expect(await bashComplete(r.stdout, prog, ["exceptions", "create", "--tt"])).toEqual(["--ttl"])
  }
})

test("zsh and fish scripts are generated; an unknown shell is a usage error", async () => {
  const zsh = await cli(["completion", "zsh"])
  expect(zsh.code).toBe(0)
  expect(zsh.stdout).toStartWith("#compdef scc")
  const zcheck = Bun.spawnSync(["bash", "-n", "-c", zsh.stdout.split("\n").slice(3).join("\n")])
  expect(zcheck.exitCode).toBe(0)
  const fish = await cli(["completion", "fish"], { name: "cca" })
  expect(fish.code).toBe(0)
  expect(fish.stdout).toContain("complete -c cca -f -n '__fish_seen_subcommand_from create' -l 'ttl'")
  const bad = await cli(["completion", "tcsh"])
  expect(bad.code).toBe(2)
  expect(bad.stderr).toContain("no completion for shell 'tcsh'")
})

test("audit plugins --registry naming a missing file is an error", async () => {
  const r = await cli(["audit", "plugins", "--registry", "/nonexistent.json"])
  expect(r.code).toBe(1) // ExitCode.notFound
  expect(r.stderr).toContain("the registry /nonexistent.json does not exist")
})
