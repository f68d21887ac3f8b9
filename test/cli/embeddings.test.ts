import { expect, test } from "bun:test"
import { copyFileSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import { binary, cli } from "../support/cli"
import { startEmbeddingServer } from "../support/embedding-server"
import { tmpdir } from "../support/tmpdir"

// `cca embeddings check` in the compiled binary: the local model (weights,
// vocabulary and tfjs's WASM embedded, run in the binary's worker thread)
// works in a binary moved away from the checkout; a remote provider that is
// down is exit 5 with a hint, never a fallback.

function homeEnv(root: string, extra: Record<string, string> = {}): Record<string, string> {
  return { HOME: root, XDG_DATA_HOME: join(root, "data"), XDG_CONFIG_HOME: join(root, "config"), XDG_CACHE_HOME: join(root, "cache"), ...extra }
}

test("a moved binary embeds with the local model (USE-lite) from its own files", { timeout: 120_000 }, async () => {
  await using tmp = await tmpdir()
  const bin = join(tmp.path, "bin", "cca")
  mkdirSync(join(tmp.path, "bin"))
  copyFileSync(binary("scc"), bin)
  const proc = Bun.spawn([bin, "embeddings", "check", "--json"], { cwd: tmp.path, env: { ...process.env, ...homeEnv(join(tmp.path, "home")) }, stdout: "pipe", stderr: "pipe", timeout: 110_000 })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  expect(stderr).toBe("")
  expect(code).toBe(0)
  const d = JSON.parse(stdout).data
  expect(d).toMatchObject({ provider: "local", model: "local:use-lite", kind: "semantic", dimensions: 512, texts: 3, health: { state: "ok" } })
  expect(d.health.loadMs).toBeGreaterThan(0)
  // the paraphrase (2nd sample) is nearer the first than the unrelated 3rd
  expect(d.similarityToFirst[0]).toBeCloseTo(1, 3)
  expect(d.similarityToFirst[1]).toBeGreaterThan(d.similarityToFirst[2])
})

test("ollama through the binary: vectors from a scripted server; a server that is down is exit 5 naming it, with a hint", async () => {
  await using tmp = await tmpdir()
  await using srv = await startEmbeddingServer({ dimensions: 768 })
  const env = homeEnv(tmp.path, { CCA__EMBEDDINGS__PROVIDER: "ollama", CCA__EMBEDDINGS__URL: srv.url })
  const ok = await cli(["embeddings", "check", "--json", "one text", "another text"], { name: "cca", env })
  expect(ok.code).toBe(0)
  expect(ok.json().data).toMatchObject({ provider: "ollama", model: "ollama:nomic-embed-text", dimensions: 768, texts: 2 })
  expect(srv.requests[0]!.body.input).toEqual(["search_document: one text", "search_document: another text"])

  const gone = await startEmbeddingServer()
  await gone.close()
  const down = await cli(["embeddings", "check"], { name: "cca", env: { ...env, CCA__EMBEDDINGS__URL: gone.url } })
  expect(down.code).toBe(5)
  expect(down.stderr).toContain(`ollama at ${gone.url}/api/embed does not answer`)
  expect(down.stderr).toContain("Try: ")
})
