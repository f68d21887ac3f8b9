import { expect, test } from "bun:test"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { cli } from "../support/cli"
import { tmpdir } from "../support/tmpdir"
import { homeEnv } from "../e2e/daemon-process"

// The daemon's commands that need no running daemon (keys, config explain --daemon) and
// what the client commands do when there is none.

test("keys create prints the key once and stores only its hash; list and revoke by id", async () => {
  await using tmp = await tmpdir()
  const env = homeEnv(tmp.path)
  const created = await cli(["keys", "create", "--name", "laptop"], { name: "cca", env })
  expect(created.code).toBe(0)
  const key = created.stdout.split("\n")[0]!
  expect(key).toMatch(/^cca_[0-9a-f]{10}_[A-Za-z0-9_-]{43}$/)
  expect(created.stdout).toContain("only time the key is shown")
  const stored = await Bun.file(join(env.XDG_CONFIG_HOME!, "cca", "keys.json")).text()
  expect(stored).not.toContain(key)
  expect((await Bun.file(join(env.XDG_CONFIG_HOME!, "cca", "keys.json")).stat()).mode & 0o777).toBe(0o600)

  const list = await cli(["keys", "list", "--json"], { name: "cca", env })
  const keys = list.json().data.keys
  expect(keys).toHaveLength(1)
  expect(keys[0]).toMatchObject({ name: "laptop", revoked_at: null })
  expect(JSON.stringify(list.json())).not.toContain(key)
  const id = keys[0].id as string
  expect(key).toContain(`cca_${id}_`)

  expect((await cli(["keys", "revoke", id], { name: "cca", env })).stdout).toContain(`revoked key ${id}`)
  const after = await cli(["keys", "list"], { name: "cca", env })
  expect(after.stdout).toMatch(/revoked \d{4}-/)
  const missing = await cli(["keys", "revoke", "nope"], { name: "cca", env })
  expect(missing.code).toBe(1)
  expect(missing.stderr).toContain("Try: cca keys list")
})

test("config explain --daemon explains every value with its source, and names bad keys and variables", async () => {
  await using tmp = await tmpdir()
  const env = homeEnv(tmp.path)
  writeFileSync(join(tmp.path, "cca.toml"), '[daemon]\nhttp_port = 9555\n\n[redis]\nurl = "redis://:hunter2@cache:6379"\n')
  const r = await cli(["config", "explain", "--daemon", "--json"], { name: "cca", env: { ...env, CCA__DAEMON__ACP_PORT: "9556" }, cwd: tmp.path })
  expect(r.code).toBe(0)
  const data = r.json().data
  expect(data.file).toBe(join(tmp.path, "cca.toml"))
  const row = (k: string) => data.values.find((v: { key: string }) => v.key === k)
  expect(row("daemon.http_port")).toMatchObject({ value: 9555, from: join(tmp.path, "cca.toml") })
  expect(row("daemon.acp_port")).toMatchObject({ value: 9556, from: "env CCA__DAEMON__ACP_PORT" })
  expect(row("daemon.bind")).toMatchObject({ value: "127.0.0.1", from: "default" })
  expect(r.stdout).not.toContain("hunter2")
  const human = await cli(["config", "explain", "--daemon"], { name: "cca", env, cwd: tmp.path })
  expect(human.stdout).toMatch(/daemon\.http_port\s+9555\s+\S*cca\.toml/)

  writeFileSync(join(tmp.path, "cca.toml"), "[daemon]\nhttp_prot = 1\n")
  const bad = await cli(["config", "explain", "--daemon"], { name: "cca", env, cwd: tmp.path })
  expect(bad.code).toBe(3)
  expect(bad.stderr).toContain(`${join(tmp.path, "cca.toml")}: daemon.http_prot: no such key`)
  const badEnv = await cli(["daemon", "--port", "0"], { name: "cca", env: { ...env, CCA__AGENTS__MAX_AGENTS: "lots" } })
  expect(badEnv.code).toBe(3)
  expect(badEnv.stderr).toContain("CCA__AGENTS__MAX_AGENTS")
})

test("client commands without a daemon fail with exit 5 and the hint `cca daemon`", async () => {
  await using tmp = await tmpdir()
  const env = { ...homeEnv(tmp.path), CCA_DAEMON_URL: "http://127.0.0.1:9", CCA_API_KEY: "cca_0000000000_x" }
  for (const args of [["status"], ["task", "list"], ["task", "create", "x"], ["agents", "list"], ["task", "watch", "x"]]) {
    // watch too fails at once (no "retrying" lines for --reconnect's 60 s): its task is read before the stream
    const r = await cli([...args, "--json"], { name: "cca", env })
    expect({ args, code: r.code }).toEqual({ args, code: 5 })
    const e = r.json()
    expect(e.status.errors[0]).toMatchObject({ code: "missing_prerequisite", hint: "cca daemon" })
    expect(r.stderr).not.toContain("retrying")
  }
})

test("bad daemon flags are usage errors", async () => {
  await using tmp = await tmpdir()
  const env = homeEnv(tmp.path)
  const r = await cli(["daemon", "--port", "99999"], { name: "cca", env })
  expect(r.code).toBe(2)
  expect(r.stderr).toContain("--port must be a port number")
  expect((await cli(["daemon", "--detach", "--foreground"], { name: "cca", env })).code).toBe(2)
})
