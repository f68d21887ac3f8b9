import { expect, test } from "bun:test"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { explainLoaded } from "../../src/config/explain"
import { loadConfig } from "../../src/config/load"
import { defaultConfig } from "../../src/config/schema"
import { AppError, ConfigError } from "../../src/errors"
import { paths } from "../../src/paths"
import { tmpdir } from "../support/tmpdir"

async function loadError(p: Promise<unknown>): Promise<AppError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    return e as AppError
  }
  throw new Error("expected a ConfigError")
}

test("defaults give the embedded set-up on loopback with auth required", async () => {
  await using tmp = await tmpdir()
  const { config, file, sources } = await loadConfig({ cwd: tmp.path, env: {} })
  expect(file).toBeUndefined()
  expect(sources.size).toBe(0)
  expect(config.daemon).toMatchObject({ bind: "127.0.0.1", http_port: 9200, acp_port: 9100, require_auth: true, api_keys: [] })
  expect(config.postgres.url).toBe("")
  expect(config.redis.url).toBe("")
  expect(config.embeddings.provider).toBe("local")
  expect(config.tasks.timeout_s).toBe(300)
  expect(config).toEqual(defaultConfig())
})

test("./cca.toml wins over the user config; CCA_CONFIG-style explicit path wins over both", async () => {
  await using tmp = await tmpdir()
  mkdirSync(paths.ccaConfigDir(), { recursive: true })
  writeFileSync(paths.ccaConfigFile(), "[daemon]\nhttp_port = 9301\n")
  try {
    expect((await loadConfig({ cwd: tmp.path, env: {} })).config.daemon.http_port).toBe(9301)
    writeFileSync(join(tmp.path, "cca.toml"), "[daemon]\nhttp_port = 9302\n")
    const local = await loadConfig({ cwd: tmp.path, env: {} })
    expect(local.config.daemon.http_port).toBe(9302)
    expect(local.file).toBe(join(tmp.path, "cca.toml"))
    const other = join(tmp.path, "other.toml")
    writeFileSync(other, "[daemon]\nhttp_port = 9303\n")
    expect((await loadConfig({ cwd: tmp.path, path: other, env: {} })).config.daemon.http_port).toBe(9303)
    const missing = await loadError(loadConfig({ cwd: tmp.path, path: join(tmp.path, "nope.toml"), env: {} }))
    expect(missing.message).toContain("nope.toml")
  } finally {
    writeFileSync(paths.ccaConfigFile(), "")
  }
})

test("environment overrides are typed by the key and beat the file", async () => {
  await using tmp = await tmpdir()
  writeFileSync(join(tmp.path, "cca.toml"), '[daemon]\nhttp_port = 9400\nbind = "127.0.0.1"\n')
  const env = {
    CCA__DAEMON__HTTP_PORT: "0",
    CCA__DAEMON__REQUIRE_AUTH: "false",
    CCA__DAEMON__CORS_ORIGINS: "https://a.example, https://b.example",
    CCA__AGENTS__PERMISSIONS: '{"allowed_tools":["Read","Bash(git status)"],"roles":{"security":{"mode":"sandbox"}}}',
    CCA__POSTGRES__URL: "postgres://u:pw@db.example:5432/cca",
  }
  const loaded = await loadConfig({ cwd: tmp.path, env })
  expect(loaded.config.daemon.http_port).toBe(0)
  expect(loaded.config.daemon.require_auth).toBe(false)
  expect(loaded.config.daemon.cors_origins).toEqual(["https://a.example", "https://b.example"])
  expect(loaded.config.agents.permissions.allowed_tools).toEqual(["Read", "Bash(git status)"])
  expect(loaded.config.agents.permissions.roles.security).toEqual({ mode: "sandbox" })
  expect(loaded.config.agents.permissions.mode).toBe("allowlist")
  const explained = explainLoaded(loaded)
  const row = (key: string) => explained.values.find((v) => v.key === key)!
  expect(row("daemon.http_port").from).toBe("env CCA__DAEMON__HTTP_PORT")
  expect(row("daemon.bind").from).toBe(join(tmp.path, "cca.toml"))
  expect(row("daemon.acp_port").from).toBe("default")
  expect(row("postgres.url").value).toBe("postgres://u:****@db.example:5432/cca")
  expect(JSON.stringify(explained)).not.toContain(":pw@")
  // every key of every section is explained
  expect(explained.values.length).toBe(Object.values(defaultConfig()).reduce((n, s) => n + Object.keys(s).length, 0))
})

test("errors name the key and the file or variable to fix", async () => {
  await using tmp = await tmpdir()
  const file = join(tmp.path, "cca.toml")
  const cases: [string, string][] = [
    ["[daemon]\nhtp_port = 1\n", `${file}: daemon.htp_port: no such key`],
    ["[deamon]\nbind = \"x\"\n", `${file}: deamon: no such section`],
    ["[daemon]\nhttp_port = 70000\n", `${file}: daemon.http_port: must be 0 to 65535`],
    ['[daemon]\napi_keys = ["cca_abc_secret"]\n', `${file}: daemon.api_keys: must be a key hash`],
    ['[agents.permissions]\nmode = "yolo"\n', `${file}: agents.permissions.mode: must be allowlist, sandbox or dangerous`],
    ['[agents.permissions.roles.qa]\nallow_network = "yes"\n', `${file}: agents.permissions.roles.qa.allow_network:`],
    ['[agents.permissions.roles.QA]\nmode = "sandbox"\n', `${file}: agents.permissions.roles.QA: must be a role name`],
    ["[daemon]\nhttp_port = = 1\n", `${file}: invalid TOML: Expected a value`],
  ]
  for (const [text, message] of cases) {
    writeFileSync(file, text)
    const e = await loadError(loadConfig({ cwd: tmp.path, env: {} }))
    expect(e.message).toStartWith(message)
    expect(e.hint).toBeTruthy()
    expect(e.exitCode).toBe(3)
  }
  writeFileSync(file, "")
  expect((await loadError(loadConfig({ cwd: tmp.path, env: { CCA__DAEMON__HTTP_PORT: "many" } }))).message).toContain("CCA__DAEMON__HTTP_PORT")
  expect((await loadError(loadConfig({ cwd: tmp.path, env: { CCA__DAEMON__PORT: "1" } }))).message).toStartWith("CCA__DAEMON__PORT: no such setting")
  expect((await loadError(loadConfig({ cwd: tmp.path, env: { CCA__AGENTS__PERMISSIONS: "sandbox" } }))).message).toContain("a JSON object")
  expect((await loadError(loadConfig({ cwd: tmp.path, env: { CCA__DAEMON__HTTP_PORT: "-1" } }))).message).toBe("CCA__DAEMON__HTTP_PORT: must be 0 to 65535")
  expect((await loadError(loadConfig({ cwd: tmp.path, env: { CCA__DAEMON__REQUIRE_AUTH: "maybe" } }))).message).toContain("true or false")
})
