import { afterAll, beforeAll, expect, test } from "bun:test"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import * as v from "valibot"
import { createKey, generateKey, hashKey, keyId, revokeKey } from "../../src/config/keys"
import { CcaConfig } from "../../src/config/schema"
import { KeyRing, presentedKey } from "../../src/daemon/auth"
import { checkExposure } from "../../src/daemon/server"
import { ConfigError } from "../../src/errors"
import { tmpdir } from "../support/tmpdir"
import { testDaemon, type TestDaemon } from "./harness"

test("keys are stored as salted hashes and verified only with the right secret", async () => {
  await using tmp = await tmpdir()
  const file = join(tmp.path, "keys.json")
  const a = await createKey("ci", file)
  const b = generateKey()
  const text = await Bun.file(file).text()
  expect(text).not.toContain(a.key)
  expect(text).not.toContain(a.key.slice(`cca_${a.id}_`.length)) // the secret part (base64url may itself hold "_")
  expect(hashKey(a.id, a.key)).not.toBe(a.hash) // per-key salt: same key, different hash

  let now = 0
  const ring = new KeyRing([b.hash], file, () => now)
  expect(ring.verify(a.key)).toEqual({ keyId: a.id, name: "ci" })
  expect(ring.verify(b.key)).toEqual({ keyId: b.id, name: "" })
  expect(ring.verify(`${a.key}x`)).toBeUndefined()
  expect(ring.verify(a.key.slice(0, -1) + (a.key.endsWith("A") ? "B" : "A"))).toBeUndefined()
  expect(ring.verify("cca_nosuchid_secret")).toBeUndefined()
  expect(ring.verify("not-a-key")).toBeUndefined()

  // a key created while the daemon runs works at once (an unknown id re-reads the file)
  const c = await createKey("later", file)
  expect(ring.verify(c.key)?.keyId).toBe(c.id)

  // a revoked key stops working once the file is re-checked (at most recheckMs later)
  await revokeKey(a.id, [], file)
  now += 1001
  expect(ring.verify(a.key)).toBeUndefined()
  expect(ring.verify(c.key)?.keyId).toBe(c.id)

  // a broken edit keeps the keys that were loaded
  writeFileSync(file, "{ not json")
  now += 1001
  expect(ring.verify(c.key)?.keyId).toBe(c.id)
  expect(() => new KeyRing([], file)).toThrow(ConfigError) // but a daemon does not start on it
})

test("revoking a key from cca.toml is refused with a hint; unknown ids are not found", async () => {
  await using tmp = await tmpdir()
  const file = join(tmp.path, "keys.json")
  const k = generateKey()
  await expect(revokeKey(k.id, [k.hash], file)).rejects.toThrow("comes from daemon.api_keys")
  await expect(revokeKey("nope", [], file)).rejects.toThrow("no API key with id nope")
})

test("the key is read from Authorization: Bearer or X-API-Key", () => {
  expect(presentedKey(new Headers({ authorization: "Bearer cca_ab_cd" }))).toBe("cca_ab_cd")
  expect(presentedKey(new Headers({ authorization: "bearer   cca_ab_cd " }))).toBe("cca_ab_cd")
  expect(presentedKey(new Headers({ "x-api-key": "cca_ab_cd" }))).toBe("cca_ab_cd")
  expect(presentedKey(new Headers({ authorization: "Basic Zm9vOmJhcg==" }))).toBeUndefined()
  expect(presentedKey(new Headers())).toBeUndefined()
  expect(keyId("cca_0a1b2c_secret_with_underscores")).toBe("0a1b2c")
})

test("require_auth = false is refused off loopback and warned about on it", () => {
  const open = (bind: string) => v.parse(CcaConfig, { daemon: { bind, require_auth: false } })
  expect(() => checkExposure(open("0.0.0.0"))).toThrow(ConfigError)
  expect(() => checkExposure(open("192.168.1.5"))).toThrow("only allowed on a loopback address")
  expect(checkExposure(open("127.0.0.1"))[0]).toContain("without an API key")
  expect(checkExposure(v.parse(CcaConfig, {}))).toEqual([])
})

let t: TestDaemon
beforeAll(async () => {
  t = await testDaemon()
}, 60_000)
afterAll(async () => {
  await t[Symbol.asyncDispose]()
})

test("health needs no key; everything else answers 401 with a hint", async () => {
  expect((await t.req("GET", "/api/v1/health", { key: null })).status).toBe(200)
  for (const [method, path] of [["GET", "/api/v1/status"], ["GET", "/api/v1/tasks"], ["POST", "/api/v1/tasks"], ["GET", "/metrics"], ["GET", "/api/v1/openapi.json"], ["GET", "/api/v1/no-such-route"]] as const) {
    const res = await t.req(method, path, { key: null })
    expect(res.status).toBe(401)
    expect(res.headers.get("www-authenticate")).toContain("Bearer")
    const body = (await res.json()) as { error: { code: string; message: string; hint: string } }
    expect(body.error.code).toBe("unauthorized")
    expect(body.error.hint).toContain("cca keys create")
  }
  const wrong = await t.req("GET", "/api/v1/status", { key: "cca_0000000000_wrong" })
  expect(wrong.status).toBe(401)
  expect(((await wrong.json()) as { error: { message: string } }).error.message).toContain("not valid")
})

test("a valid key works as Bearer and as X-API-Key", async () => {
  expect((await t.req("GET", "/api/v1/status")).status).toBe(200)
  expect((await t.req("GET", "/api/v1/status", { key: null, headers: { "x-api-key": t.key } })).status).toBe(200)
})
