import { expect, test } from "bun:test"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { AppError } from "../../src/errors"
import { flushLogs, redact, setVerbose } from "../../src/log"
import { authorizationHeader, parseAuthSpec, resolveToken, splitArgv } from "../../src/org/auth"
import { loadOrgConfig } from "../../src/org/load"
import { paths } from "../../src/paths"
import { isolatedHome, sampleOrgConfig } from "../support/org-fixtures"
import { startOrgServer } from "../support/org-server"

test("splitArgv splits words and honours quotes and escapes, without any expansion", () => {
  expect(splitArgv("gh auth token")).toEqual(["gh", "auth", "token"])
  expect(splitArgv(`vault read -field=token 'secret/scc org' "a \\"b\\" c" x\\ y $HOME`)).toEqual([
    "vault",
    "read",
    "-field=token",
    "secret/scc org",
    'a "b" c',
    "x y",
    "$HOME",
  ])
  expect(splitArgv(`  ''  `)).toEqual([""])
  expect(() => splitArgv("echo 'open")).toThrow(/unterminated/)
})

test("auth specs: env:VAR and command:CMD; anything else is refused", () => {
  expect(parseAuthSpec("env:ORG_TOKEN")).toEqual({ kind: "env", name: "ORG_TOKEN" })
  expect(parseAuthSpec("command:gh auth token")).toEqual({ kind: "command", argv: ["gh", "auth", "token"] })
  for (const bad of ["ghp_abc123", "env:", "env:1BAD", "command:", "token:x"]) expect(() => parseAuthSpec(bad), bad).toThrow(AppError)
})

test("the header is Bearer unless the token names its scheme", () => {
  expect(authorizationHeader("abc123")).toBe("Bearer abc123")
  expect(authorizationHeader("Bearer abc123")).toBe("Bearer abc123")
  expect(authorizationHeader("token ghp_x")).toBe("token ghp_x")
  expect(authorizationHeader("Basic dXNlcjpwYXNz")).toBe("Basic dXNlcjpwYXNz")
})

test("command: runs without a shell, is killed after its timeout, and reports failures", async () => {
  expect(await resolveToken("command:echo  tok-from-cmd ")).toBe("tok-from-cmd")
  // no shell: `;` and `$(...)` are plain arguments to echo
  expect(await resolveToken("command:echo a;b $(id)")).toBe("a;b $(id)")
  const started = performance.now()
  await expect(resolveToken("command:sleep 30", 300)).rejects.toThrow(/did not finish within 0.3 s/)
  expect(performance.now() - started).toBeLessThan(5_000)
  await expect(resolveToken("command:false")).rejects.toThrow(/exited with 1/)
  await expect(resolveToken("command:/no/such/program")).rejects.toThrow(/cannot run/)
  await expect(resolveToken("env:SCC_TEST_UNSET_VARIABLE")).rejects.toThrow(/is not set/)
})

async function tokenNeverStored(home: string, token: string): Promise<void> {
  await flushLogs()
  const logText = readFileSync(paths.cliLogFile(), "utf8")
  expect(logText).toContain("fetched the org config") // the fetch was logged...
  expect(logText).not.toContain(token) // ...without the token
  for (const name of readdirSync(paths.sccCacheDir())) expect(readFileSync(join(paths.sccCacheDir(), name), "utf8")).not.toContain(token)
  expect(redact(`header: Bearer ${token}`)).not.toContain(token) // registered as a secret for every later log line
  expect(home).toBeTruthy()
}

test("env: auth sends Authorization: Bearer and never stores the token", async () => {
  using home = isolatedHome()
  setVerbose(false) // a logger writing to this home's log file
  const token = "env-secret-token-9f8e7d"
  process.env.SCC_TEST_ORG_TOKEN = token
  try {
    await using server = startOrgServer(sampleOrgConfig())
    server.requireAuth(`Bearer ${token}`)
    const r = await loadOrgConfig({ source: server.url, auth: "env:SCC_TEST_ORG_TOKEN" })
    expect(r.origin).toBe("network")
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${token}`)
    await tokenNeverStored(home.dir, token)
  } finally {
    delete process.env.SCC_TEST_ORG_TOKEN
  }
})

test("command: auth sends the command's output, as is when it names its scheme", async () => {
  using home = isolatedHome()
  setVerbose(false)
  const token = "cmd-secret-token-1a2b3c"
  await using server = startOrgServer(sampleOrgConfig())
  server.requireAuth(`token ${token}`)
  const r = await loadOrgConfig({ source: server.url, auth: `command:echo token ${token}` })
  expect(r.origin).toBe("network")
  expect(server.requests[0]!.headers.authorization).toBe(`token ${token}`)
  await tokenNeverStored(home.dir, token)
})

test("the Authorization header does not follow a redirect to another origin", async () => {
  using _home = isolatedHome()
  process.env.SCC_TEST_ORG_TOKEN = "redirect-secret"
  try {
    await using target = startOrgServer(sampleOrgConfig())
    await using front = startOrgServer()
    front.setMode({ kind: "redirect", location: target.url.replace("127.0.0.1", "localhost") })
    await loadOrgConfig({ source: front.url, auth: "env:SCC_TEST_ORG_TOKEN" })
    expect(front.requests[0]!.headers.authorization).toBe("Bearer redirect-secret")
    expect(target.requests).toHaveLength(1)
    expect(target.requests[0]!.headers.authorization).toBeUndefined()
  } finally {
    delete process.env.SCC_TEST_ORG_TOKEN
  }
})
