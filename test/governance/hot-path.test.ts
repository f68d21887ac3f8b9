import { expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { tmpdir } from "../support/tmpdir"

// `config explain` runs on every start, so its chunk must not pull in what
// costs start-up time (measured in a compiled binary: node:fs ~2.6 ms,
// node:crypto ~8 ms, yaml ~8 ms, valibot ~4 ms). This builds the program
// with code splitting, as scripts/build.ts does, and walks the static
// imports from the explain command's chunk. Lazy imports (import(),
// require() inside a function) are allowed: they load only when used.

const ROOT = join(import.meta.dir, "..", "..")
const HEAVY = ["fs", "node:fs", "fs/promises", "crypto", "node:crypto", "os", "child_process", "valibot", "yaml", "consola (full)"]

type Chunk = { file: string; label: string; imports: string[]; builtins: string[]; text: string }

async function buildChunks(outdir: string): Promise<Map<string, Chunk>> {
  const result = await Bun.build({ entrypoints: [join(ROOT, "src", "main.ts")], target: "bun", splitting: true, outdir, minify: false })
  if (!result.success) throw new Error(result.logs.join("\n"))
  const chunks = new Map<string, Chunk>()
  for (const out of result.outputs) {
    const file = out.path.slice(outdir.length + 1)
    const text = readFileSync(out.path, "utf8")
    const specifiers = [...text.matchAll(/^import[^;]*?from\s*"([^"]+)"/gms)].map((m) => m[1]!)
    const builtins = specifiers.filter((s) => !s.startsWith("./"))
    if (text.includes("// node_modules/valibot/")) builtins.push("valibot")
    if (text.includes("// node_modules/yaml/")) builtins.push("yaml")
    if (text.includes("// node_modules/consola/dist/index")) builtins.push("consola (full)")
    const label = text.match(/^\/\/ ((?:src|node_modules)\/[^\n]+)/m)?.[1] ?? file
    chunks.set(file, { file, label, imports: specifiers.filter((s) => s.startsWith("./")).map((s) => s.slice(2)), builtins, text })
  }
  return chunks
}

/** Every heavy module statically reachable from `start`, with the chunk chain that leads to it. */
function heavyFrom(chunks: Map<string, Chunk>, start: Chunk): Map<string, string> {
  const found = new Map<string, string>()
  const seen = new Set<string>()
  const walk = (c: Chunk, chain: string) => {
    if (seen.has(c.file)) return
    seen.add(c.file)
    for (const b of c.builtins) if (HEAVY.includes(b) && !found.has(b)) found.set(b, chain)
    for (const i of c.imports) walk(chunks.get(i)!, `${chain} -> ${chunks.get(i)!.label}`)
  }
  walk(start, start.label)
  return found
}

test("the config explain chunk loads nothing heavy the command tree does not already load", async () => {
  await using out = await tmpdir({ prefix: "scc-chunks-" })
  const chunks = await buildChunks(out.path)
  const find = (marker: string) => [...chunks.values()].find((c) => c.text.includes(marker))!
  const tree = find("// src/cli/root.ts")
  const explainCmd = find("// src/cli/config-explain.ts")
  expect(explainCmd).toBeDefined()
  const already = heavyFrom(chunks, tree)
  const added = [...heavyFrom(chunks, explainCmd)].filter(([name]) => !already.has(name))
  expect(added.map(([name, chain]) => `${name} via ${chain}`)).toEqual([])
  // and the merge itself is in that graph (a sanity check that the walk sees the right chunks)
  expect([...chunks.values()].some((c) => c.text.includes("// src/governance/merge.ts"))).toBe(true)
})
