import { expect, test } from "bun:test"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { AppError } from "../../src/errors"
import { loadProjectConfig } from "../../src/org/project"
import { tmpdir } from "../support/tmpdir"

async function failure(p: Promise<unknown>): Promise<AppError> {
  try {
    await p
  } catch (e) {
    if (e instanceof AppError) return e
    throw e
  }
  throw new Error("expected a rejection")
}

test("a missing, empty or comment-only .scc.yaml is no config", async () => {
  await using tmp = await tmpdir()
  expect(await loadProjectConfig(tmp.path)).toBeNull()
  writeFileSync(join(tmp.path, ".scc.yaml"), "  \n")
  expect(await loadProjectConfig(tmp.path)).toBeNull()
  writeFileSync(join(tmp.path, ".scc.yaml"), "# nothing yet\n")
  expect(await loadProjectConfig(tmp.path)).toBeNull()
})

test("a valid file is parsed with defaults; unknown keys are warnings", async () => {
  await using tmp = await tmpdir()
  const path = join(tmp.path, ".scc.yaml")
  writeFileSync(path, "additional_plugins:\n  - docs@acme\nsession:\n  timeout_hours: 2\nextra: 1\n")
  const r = await loadProjectConfig(tmp.path)
  expect(r?.path).toBe(path)
  expect(r?.config.additional_plugins).toEqual(["docs@acme"])
  expect(r?.config.additional_mcp_servers).toEqual([])
  expect(r?.config.session.timeout_hours).toBe(2)
  expect(r?.warnings).toEqual([`${path}: unknown key extra (ignored)`])
})

test("a wrong type is a config error naming the key and the file", async () => {
  await using tmp = await tmpdir()
  const path = join(tmp.path, ".scc.yaml")
  writeFileSync(path, "session:\n  timeout_hours: soon\n")
  const e = await failure(loadProjectConfig(tmp.path))
  expect(e.exitCode).toBe(3)
  expect(e.message).toContain(path)
  expect(e.message).toContain("session.timeout_hours")

  writeFileSync(path, "additional_mcp_servers:\n  - name: x\n    type: http\n")
  expect((await failure(loadProjectConfig(tmp.path))).message).toContain("additional_mcp_servers[0].url")

  writeFileSync(path, "- just\n- a list\n")
  expect((await failure(loadProjectConfig(tmp.path))).message).toContain("must be a mapping")

  writeFileSync(path, "additional_plugins: [unclosed\n")
  const syntax = await failure(loadProjectConfig(tmp.path))
  expect(syntax.message).toContain("not valid YAML (line")
})
