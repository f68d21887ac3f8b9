import { afterAll, beforeAll, expect, test } from "bun:test"
import * as v from "valibot"
import { generateKey } from "../../src/config/keys"
import { CcaConfig } from "../../src/config/schema"
import { createApp } from "../../src/daemon/app"
import { KeyRing } from "../../src/daemon/auth"
import { Metrics } from "../../src/daemon/metrics"
import { TokenBuckets } from "../../src/daemon/rate-limit"
import { createLogger } from "../../src/log"
import { testDaemon, type TestDaemon } from "./harness"

test("a token bucket allows its burst, then one request per 1/rate seconds", () => {
  let now = 0
  const b = new TokenBuckets(2, 3, () => now)
  expect([b.take("a"), b.take("a"), b.take("a")].every((r) => r.ok)).toBe(true)
  const refused = b.take("a")
  expect(refused).toEqual({ ok: false, retryAfterS: 1 })
  expect(b.take("b").ok).toBe(true) // buckets are per key
  now += 499
  expect(b.take("a").ok).toBe(false)
  now += 1
  expect(b.take("a").ok).toBe(true)
  expect(new TokenBuckets(0, 1, () => now).take("x").ok).toBe(true) // rate 0 = no limit
})

test("the bucket map stays bounded under many distinct clients", () => {
  let now = 0
  const b = new TokenBuckets(1, 2, () => now, 1000)
  for (let i = 0; i < 10_000; i++) {
    b.take(`10.0.${i >> 8}.${i & 255}`)
    now += 1
  }
  expect(b.size).toBeLessThanOrEqual(1000)
})

let t: TestDaemon
beforeAll(async () => {
  t = await testDaemon()
}, 60_000)
afterAll(async () => {
  await t[Symbol.asyncDispose]()
})

function appWith(daemon: Partial<CcaConfig["daemon"]>, now: () => number) {
  const k = generateKey()
  const config = v.parse(CcaConfig, { daemon: { api_keys: [k.hash], ...daemon } })
  const app = createApp({ config, keys: new KeyRing(config.daemon.api_keys, `${t.tmp.path}/none.json`), metrics: new Metrics(), log: createLogger("test"), ctx: t.daemon.ctx, now })
  const get = (path: string, ip: string, key: string | null = k.key, headers: Record<string, string> = {}) =>
    app.handle(new Request(`http://localhost${path}`, { headers: { ...headers, ...(key ? { authorization: `Bearer ${key}` } : {}) } }), ip)
  return { get, app }
}

test("per address: requests without a valid key get 429 with Retry-After past the burst", async () => {
  let now = 0
  const { get } = appWith({ rate_limit_ip_rps: 1, rate_limit_ip_burst: 2, rate_limit_key_rps: 0 }, () => now)
  expect((await get("/api/v1/health", "10.0.0.1", null)).status).toBe(200)
  expect((await get("/api/v1/status", "10.0.0.1", "cca_0000000000_guess")).status).toBe(401)
  const limited = await get("/api/v1/status", "10.0.0.1", null)
  expect(limited.status).toBe(429)
  expect(limited.headers.get("retry-after")).toBe("1")
  expect(((await limited.json()) as { error: { code: string; hint: string } }).error).toMatchObject({ code: "rate_limited" })
  expect((await get("/api/v1/health", "10.0.0.1", null)).status).toBe(429) // public routes too
  expect((await get("/api/v1/status", "10.0.0.1")).status).toBe(200) // a valid key is limited per key instead
  expect((await get("/api/v1/status", "10.0.0.2", null)).status).toBe(401) // another address has its own bucket
  now += 1000
  expect((await get("/api/v1/status", "10.0.0.1", null)).status).toBe(401)
})

test("per key: one key's burst does not spend another's", async () => {
  let now = 0
  const { get } = appWith({ rate_limit_ip_rps: 0, rate_limit_key_rps: 0.5, rate_limit_key_burst: 1 }, () => now)
  expect((await get("/api/v1/status", "10.0.0.1")).status).toBe(200)
  const limited = await get("/api/v1/status", "10.0.0.9")
  expect(limited.status).toBe(429)
  expect(limited.headers.get("retry-after")).toBe("2")
  expect((await get("/api/v1/status", "10.0.0.1", t.key)).status).toBe(401) // a key this app does not know
})

test("CORS: allowed origins get headers and preflight answers; others get none", async () => {
  const { get } = appWith({ cors_origins: ["https://dash.example"] }, () => 0)
  const ok = await get("/api/v1/status", "10.0.0.1", undefined, { origin: "https://dash.example" })
  expect(ok.headers.get("access-control-allow-origin")).toBe("https://dash.example")
  const other = await get("/api/v1/status", "10.0.0.1", undefined, { origin: "https://evil.example" })
  expect(other.headers.get("access-control-allow-origin")).toBeNull()
  const { app } = appWith({ cors_origins: ["https://dash.example"] }, () => 0)
  const preflight = await app.handle(new Request("http://localhost/api/v1/tasks", { method: "OPTIONS", headers: { origin: "https://dash.example", "access-control-request-method": "POST" } }), "10.0.0.1")
  expect(preflight.status).toBe(204)
  expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization")
  const foreign = await app.handle(new Request("http://localhost/api/v1/tasks", { method: "OPTIONS", headers: { origin: "https://evil.example" } }), "10.0.0.1")
  expect(foreign.status).toBe(401) // no preflight pass for origins not listed
})
