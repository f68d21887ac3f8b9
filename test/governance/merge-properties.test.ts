import { expect, test } from "bun:test"
import * as v from "valibot"
import { isExpired } from "../../src/governance/exceptions"
import { computeEffectiveConfig } from "../../src/governance/merge"
import { globMatch } from "../../src/governance/match"
import { imagePattern, imagePolicyForms } from "../../src/governance/refs"
import type { EffectiveConfig } from "../../src/governance/types"
import { OrgConfig, ProjectConfig } from "../../src/org/schema"
import { NOW } from "./fixtures"
import { generate, genHost, type Generated } from "./gen"

// Properties that must hold for any input, over seeded generated inputs. The
// checks restate the rules independently of the merge's own code paths: they
// match with globMatch against the raw config, not through the ledger.

const SEEDS = 600

function run(g: Generated, withLocal = true): EffectiveConfig {
  return computeEffectiveConfig({
    org: v.parse(OrgConfig, g.org),
    team: g.team,
    project: g.project ? v.parse(ProjectConfig, g.project) : null,
    localExceptions: withLocal ? g.local : [],
    image: g.image,
    now: NOW,
    host: genHost,
  })
}

function forEachSeed(check: (g: Generated, seed: number) => void) {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const g = generate(seed)
    try {
      check(g, seed)
    } catch (e) {
      throw new Error(`seed ${seed}: ${(e as Error).message}\ninput: ${JSON.stringify(g, null, 1)}`)
    }
  }
}

const any = (values: string[], patterns: readonly string[] | undefined) => (patterns ?? []).some((p) => values.some((x) => globMatch(x, p)))

function policyLifts(g: Generated, key: "plugins" | "mcp_servers" | "base_images", values: string[]): boolean {
  return (g.org.exceptions ?? []).some(
    (e) =>
      !isExpired(e, NOW) &&
      (!e.teams || (g.team !== null && e.teams.some((t) => globMatch(g.team!, t)))) &&
      any(values, key === "base_images" ? (e.allow[key] ?? []).map(imagePattern) : e.allow[key]),
  )
}

test("a security-blocked plugin is never effective unless a policy exception lifts it", () => {
  forEachSeed((g) => {
    const r = run(g)
    for (const ref of r.effective.plugins) {
      const values = [ref, ref.slice(0, ref.lastIndexOf("@"))]
      if (any(values, g.org.security?.blocked_plugins)) expect(policyLifts(g, "plugins", values)).toBe(true)
    }
    const blockedItems = new Set(r.blocked.filter((b) => b.target_type === "plugin").map((b) => b.item))
    for (const ref of r.effective.plugins) expect(blockedItems.has(ref)).toBe(false)
  })
})

test("a security-blocked or stdio-gated MCP server is never effective unless a policy exception lifts it", () => {
  forEachSeed((g) => {
    const r = run(g)
    const security = g.org.security ?? {}
    for (const s of r.effective.mcp_servers) {
      const values = [s.name]
      if (s.url) values.push(new URL(s.url).hostname)
      if (s.type === "stdio") values.push(s.command!)
      // The gate, restated for genHost: only /opt/tools/fs really lies under /opt/tools.
      const passesGate = s.type !== "stdio" || (security.allow_stdio_mcp === true && s.command!.startsWith("/") && (!security.allowed_stdio_prefixes?.length || s.command === "/opt/tools/fs"))
      if (any(values, security.blocked_mcp_servers) || !passesGate) expect(policyLifts(g, "mcp_servers", values)).toBe(true)
    }
  })
})

test("a blocked image is never the effective image unless a policy exception lifts it", () => {
  forEachSeed((g) => {
    const r = run(g)
    if (r.effective.image === null) return
    const forms = imagePolicyForms(r.effective.image)
    if (any(forms, (g.org.security?.blocked_base_images ?? []).map(imagePattern))) expect(policyLifts(g, "base_images", forms)).toBe(true)
  })
})

test("local exceptions never lift a security block: they change only denials", () => {
  let lifted = 0
  forEachSeed((g) => {
    const without = run(g, false)
    const withLocal = run(g, true)
    expect(withLocal.blocked).toEqual(without.blocked)
    for (const e of withLocal.exceptions) if (e.scope !== "policy") for (const l of e.lifted) expect(l.kind).toBe("denied")
    const before = new Set(without.effective.plugins)
    const wasDenied = new Set(without.denied.map((d) => d.item))
    for (const p of withLocal.effective.plugins) if (!before.has(p)) expect(wasDenied.has(p)).toBe(true)
    lifted += withLocal.exceptions.filter((e) => e.scope !== "policy").length
  })
  expect(lifted).toBeGreaterThan(20) // the generator does exercise local exceptions
})

test("the merge is deterministic and does not change its inputs", () => {
  forEachSeed((g) => {
    const org = v.parse(OrgConfig, g.org)
    const snapshot = structuredClone(org)
    const a = computeEffectiveConfig({ org, team: g.team, now: NOW, host: genHost, localExceptions: g.local })
    expect(org).toEqual(snapshot)
    expect(computeEffectiveConfig({ org, team: g.team, now: NOW, host: genHost, localExceptions: g.local })).toEqual(a)
  })
})

test("the generator covers blocks, denials and lifts", () => {
  const totals = { blocked: 0, denied: 0, lifted: 0, effective: 0 }
  forEachSeed((g) => {
    const r = run(g)
    totals.blocked += r.blocked.length
    totals.denied += r.denied.length
    totals.lifted += r.exceptions.length
    totals.effective += r.effective.plugins.length + r.effective.mcp_servers.length
  })
  for (const [k, n] of Object.entries(totals)) expect([k, n > SEEDS / 4]).toEqual([k, true])
})
