import { describe, expect, test } from "bun:test"
import { readFileSync, statSync, writeFileSync } from "node:fs"
import { AppError } from "../../src/errors"
import { loadOrgConfig } from "../../src/org/load"
import { paths } from "../../src/paths"
import { isolatedHome, sampleOrgConfig } from "../support/org-fixtures"
import { startOrgServer } from "../support/org-server"

const HOUR = 3_600_000
const T0 = Date.parse("2030-01-01T00:00:00Z")
const at = (ms: number) => () => ms

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p
  } catch (e) {
    if (e instanceof AppError) return e
    throw e
  }
  throw new Error("expected a rejection")
}

const cacheBytes = () => readFileSync(paths.orgConfigCache())
const meta = () => JSON.parse(readFileSync(paths.orgConfigMeta(), "utf8"))

describe("loadOrgConfig over HTTP", () => {
  test("a fresh cache answers without a request", async () => {
    using _home = isolatedHome()
    await using server = startOrgServer(sampleOrgConfig())
    const first = await loadOrgConfig({ source: server.url, now: at(T0) })
    expect(first.origin).toBe("network")
    expect(first.stale).toBe(false)
    expect(first.config.organization.name).toBe("Acme")
    expect(server.requests).toHaveLength(1)

    const second = await loadOrgConfig({ source: server.url, now: at(T0 + 23 * HOUR) })
    expect(second.origin).toBe("cache")
    expect(second.config).toEqual(first.config)
    expect(server.requests).toHaveLength(1)
  })

  test("an expired cache revalidates with If-None-Match; 304 keeps it and extends its expiry", async () => {
    using _home = isolatedHome()
    await using server = startOrgServer(sampleOrgConfig())
    await loadOrgConfig({ source: server.url, now: at(T0) })
    const before = cacheBytes()
    const etag = meta().etag
    expect(etag).toBeTruthy()

    const later = T0 + 25 * HOUR
    const r = await loadOrgConfig({ source: server.url, now: at(later) })
    expect(server.requests).toHaveLength(2)
    expect(server.requests[1]!.headers["if-none-match"]).toBe(etag)
    expect(r.origin).toBe("cache")
    expect(r.stale).toBe(false)
    expect(cacheBytes().equals(before)).toBe(true)
    expect(meta().expires_at).toBe(new Date(later + 24 * HOUR).toISOString())

    // and the extension holds: no request inside the new window
    await loadOrgConfig({ source: server.url, now: at(later + 23 * HOUR) })
    expect(server.requests).toHaveLength(2)
  })

  test("a 200 with new content replaces the cache; TTL comes from defaults.cache_ttl_hours", async () => {
    using _home = isolatedHome()
    const config = sampleOrgConfig()
    await using server = startOrgServer(config)
    await loadOrgConfig({ source: server.url, now: at(T0) })
    server.setConfig({ ...config, organization: { name: "Acme 2" }, defaults: { ...config.defaults, cache_ttl_hours: 2 } })
    const r = await loadOrgConfig({ source: server.url, now: at(T0 + 25 * HOUR) })
    expect(r.origin).toBe("network")
    expect(r.config.organization.name).toBe("Acme 2")
    expect(JSON.parse(cacheBytes().toString()).organization.name).toBe("Acme 2")
    expect(meta().expires_at).toBe(new Date(T0 + 27 * HOUR).toISOString())
  })

  test("refresh revalidates a fresh cache", async () => {
    using _home = isolatedHome()
    await using server = startOrgServer(sampleOrgConfig())
    await loadOrgConfig({ source: server.url, now: at(T0) })
    await loadOrgConfig({ source: server.url, now: at(T0 + HOUR), refresh: true })
    expect(server.requests).toHaveLength(2)
  })

  for (const status of [401, 403]) {
    test(`${status} warns and keeps the stale cache; without a cache it is a config error about auth`, async () => {
      using _home = isolatedHome()
      await using server = startOrgServer(sampleOrgConfig())
      await loadOrgConfig({ source: server.url, now: at(T0) })
      const before = cacheBytes()
      server.setMode({ kind: "status", status })
      const r = await loadOrgConfig({ source: server.url, now: at(T0 + 30 * HOUR) })
      expect(r.origin).toBe("cache")
      expect(r.stale).toBe(true)
      expect(r.config.organization.name).toBe("Acme")
      expect(r.warnings.join("\n")).toContain(`HTTP ${status}`)
      expect(cacheBytes().equals(before)).toBe(true)

      using _other = isolatedHome()
      const e = await rejection(loadOrgConfig({ source: server.url, now: at(T0) }))
      expect(e.code).toBe("config")
      expect(e.exitCode).toBe(3)
      expect(e.hint).toContain("--auth")
    })
  }

  test("a server that never answers times out and falls back to the stale cache; without one it is a network error", async () => {
    using _home = isolatedHome()
    await using server = startOrgServer(sampleOrgConfig())
    await loadOrgConfig({ source: server.url, now: at(T0) })
    server.setMode({ kind: "hang" })
    const started = performance.now()
    const r = await loadOrgConfig({ source: server.url, now: at(T0 + 25 * HOUR), timeoutMs: 300 })
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(r.origin).toBe("cache")
    expect(r.stale).toBe(true)
    expect(r.warnings.join("\n")).toContain("no answer within 0.3 s")

    using _other = isolatedHome()
    const e = await rejection(loadOrgConfig({ source: server.url, timeoutMs: 300 }))
    expect(e.code).toBe("network")
    expect(e.exitCode).toBe(3)
  })

  test("a refused connection falls back to the stale cache", async () => {
    using _home = isolatedHome()
    const server = startOrgServer(sampleOrgConfig())
    const url = server.url
    await loadOrgConfig({ source: url, now: at(T0) })
    await server.stop()
    const r = await loadOrgConfig({ source: url, now: at(T0 + 25 * HOUR) })
    expect(r.stale).toBe(true)
    expect(r.warnings[0]).toContain("cannot fetch the org config")
  })

  test("invalid JSON and a schema-invalid config never replace a good cache", async () => {
    using _home = isolatedHome()
    const config = sampleOrgConfig()
    await using server = startOrgServer(config)
    await loadOrgConfig({ source: server.url, now: at(T0) })
    const before = cacheBytes()
    const metaBefore = meta()

    server.setConfig("{ not json")
    const a = await loadOrgConfig({ source: server.url, now: at(T0 + 25 * HOUR) })
    expect(a.origin).toBe("cache")
    expect(a.warnings.join("\n")).toContain("not valid JSON")

    server.setConfig({ ...config, profiles: { finance: { additional_mcp_servers: [{ name: "x", type: "http" }] } } })
    const b = await loadOrgConfig({ source: server.url, now: at(T0 + 26 * HOUR) })
    expect(b.origin).toBe("cache")
    expect(b.warnings.join("\n")).toContain("profiles.finance.additional_mcp_servers[0].url")
    expect(cacheBytes().equals(before)).toBe(true)
    expect(meta()).toEqual(metaBefore)

    using _other = isolatedHome()
    const e = await rejection(loadOrgConfig({ source: server.url }))
    expect(e.exitCode).toBe(3)
    expect(e.message).toContain("profiles.finance.additional_mcp_servers[0].url")
  })

  test("offline uses the cache only, even expired; without a cache it fails with exit 3 and a hint", async () => {
    using _home = isolatedHome()
    await using server = startOrgServer(sampleOrgConfig())
    const none = await rejection(loadOrgConfig({ source: server.url, offline: true }))
    expect(none.exitCode).toBe(3)
    expect(none.hint).toContain("without --offline")
    expect(server.requests).toHaveLength(0)

    await loadOrgConfig({ source: server.url, now: at(T0) })
    const r = await loadOrgConfig({ source: server.url, offline: true, now: at(T0 + 100 * HOUR) })
    expect(server.requests).toHaveLength(1)
    expect(r.origin).toBe("cache")
    expect(r.stale).toBe(true)
    expect(r.warnings[0]).toContain("offline")
  })

  test("a cache whose sha256 does not match its meta is treated as absent", async () => {
    using _home = isolatedHome()
    await using server = startOrgServer(sampleOrgConfig())
    await loadOrgConfig({ source: server.url, now: at(T0) })
    const tampered = JSON.parse(cacheBytes().toString())
    tampered.security.blocked_plugins = []
    writeFileSync(paths.orgConfigCache(), JSON.stringify(tampered, null, 2) + "\n")

    const offline = await rejection(loadOrgConfig({ source: server.url, offline: true, now: at(T0 + HOUR) }))
    expect(offline.exitCode).toBe(3)
    const r = await loadOrgConfig({ source: server.url, now: at(T0 + HOUR) })
    expect(r.origin).toBe("network")
    expect(server.requests).toHaveLength(2)
    expect(server.requests[1]!.headers["if-none-match"]).toBeUndefined()
    expect(r.config.security.blocked_plugins).toEqual(["evil-*@*"])
  })

  test("a cache of another source is not used", async () => {
    using _home = isolatedHome()
    await using a = startOrgServer(sampleOrgConfig())
    await using b = startOrgServer({ ...sampleOrgConfig(), organization: { name: "Other" } })
    await loadOrgConfig({ source: a.url, now: at(T0) })
    const r = await loadOrgConfig({ source: b.url, now: at(T0 + HOUR) })
    expect(r.config.organization.name).toBe("Other")
    expect(b.requests).toHaveLength(1)
  })

  test("cache files are mode 0600 in a 0700 directory", async () => {
    using _home = isolatedHome()
    await using server = startOrgServer(sampleOrgConfig())
    await loadOrgConfig({ source: server.url, now: at(T0) })
    expect(statSync(paths.orgConfigCache()).mode & 0o777).toBe(0o600)
    expect(statSync(paths.orgConfigMeta()).mode & 0o777).toBe(0o600)
    expect(statSync(paths.sccCacheDir()).mode & 0o777).toBe(0o700)
    expect(Object.keys(meta()).sort()).toEqual(expect.arrayContaining(["source", "fetched_at", "expires_at", "etag", "sha256"]))
  })

  test("plain http to a non-loopback host is refused before any request", async () => {
    using _home = isolatedHome()
    const e = await rejection(loadOrgConfig({ source: "http://org.example.test/org.json" }))
    expect(e.exitCode).toBe(3)
    expect(e.message).toContain("plain http")
  })

  test("a redirect to plain http on a non-loopback host is refused", async () => {
    using _home = isolatedHome()
    await using server = startOrgServer(sampleOrgConfig())
    server.setMode({ kind: "redirect", location: "http://org.example.test/org.json" })
    const e = await rejection(loadOrgConfig({ source: server.url }))
    expect(e.message).toContain("plain http")
  })

  test("no source configured is a missing prerequisite (exit 5) pointing at setup", async () => {
    using _home = isolatedHome()
    const e = await rejection(loadOrgConfig())
    expect(e.exitCode).toBe(5)
    expect(e.hint).toContain("scc setup --org")
  })
})

describe("loadOrgConfig from a file", () => {
  test("validates a changed file once, then answers from the cache", async () => {
    using home = isolatedHome()
    const file = `${home.dir}/org.json`
    writeFileSync(file, JSON.stringify(sampleOrgConfig()))
    const a = await loadOrgConfig({ source: file })
    expect(a.origin).toBe("file")
    const metaA = meta()
    const b = await loadOrgConfig({ source: file })
    expect(b.config).toEqual(a.config)
    expect(meta()).toEqual(metaA) // not rewritten

    writeFileSync(file, JSON.stringify({ ...sampleOrgConfig(), organization: { name: "Changed" } }))
    const c = await loadOrgConfig({ source: file })
    expect(c.config.organization.name).toBe("Changed")

    writeFileSync(file, "{}")
    const e = await rejection(loadOrgConfig({ source: file }))
    expect(e.exitCode).toBe(3)
    expect(e.message).toContain("schema_version")
  })
})
