import { expect, test } from "bun:test"
import * as v from "valibot"
import { CcaConfig } from "../../src/config/schema"
import { registerSecret } from "../../src/log"
import { AgentLog } from "../../src/pool/agent-log"
import { parseClientText } from "../../src/pool/attach"
import { restartDelay, RoleCircuits } from "../../src/pool/circuit"
import { permissionsFromConfig, poolOptions, poolWarnings } from "../../src/pool/options"

test("restart delay doubles per consecutive crash, capped", () => {
  expect([1, 2, 3, 4, 5, 6, 7].map((n) => restartDelay(n, 1_000, 30_000))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000])
})

test("a role's circuit opens at the threshold within the window, half-opens after the cooldown, closes on ready, reopens on a half-open crash", () => {
  const c = new RoleCircuits({ threshold: 3, windowMs: 60_000, cooldownMs: 30_000 })
  expect(c.crash("qa", 0, "exit 1")).toEqual({ opened: false, retryAt: null })
  expect(c.crash("qa", 70_000, "exit 1")).toEqual({ opened: false, retryAt: null }) // the first fell out of the window
  expect(c.crash("qa", 80_000, "exit 1").opened).toBe(false)
  expect(c.crash("qa", 90_000, "killed by SIGKILL")).toEqual({ opened: true, retryAt: 120_000 })
  expect(c.isOpen("qa", 100_000)).toBe(true)
  expect(c.isOpen("backend", 100_000)).toBe(false)
  const [h] = c.health(100_000)
  expect(h).toMatchObject({ role: "qa", state: "degraded", circuit: "open", recentCrashes: 3, retryAt: new Date(120_000).toISOString() })
  expect(h!.reason).toContain("killed by SIGKILL")
  expect(c.retryAt("qa", 110_000)).toBe(120_000)
  expect(c.retryAt("qa", 120_000)).toBe(120_000) // due: half open now
  expect(c.health(120_000)[0]).toMatchObject({ state: "degraded", circuit: "half-open", retryAt: null })
  expect(c.crash("qa", 121_000, "exit 1")).toEqual({ opened: true, retryAt: 151_000 }) // one crash half open is enough
  expect(c.retryAt("qa", 151_000)).toBe(151_000)
  expect(c.ready("qa")).toBe(true)
  expect(c.ready("qa")).toBe(false)
  expect(c.health(152_000)[0]).toMatchObject({ state: "ok", circuit: "closed", recentCrashes: 0, reason: null })
})

test("an agent's log is bounded in entries and length, pages by seq, and masks secrets", () => {
  let now = 0
  const log = new AgentLog(3, () => now)
  registerSecret("sk-very-secret-value")
  for (let i = 1; i <= 5; i++) {
    now = i * 1000
    log.add("text", `line ${i}`)
  }
  expect(log.read(undefined).items.map((e) => [e.seq, e.text])).toEqual([[3, "line 3"], [4, "line 4"], [5, "line 5"]])
  expect(log.read(3, 1)).toEqual({ items: [expect.objectContaining({ seq: 4, at: new Date(4000).toISOString() })], next: 4 })
  expect(log.read(5)).toEqual({ items: [], next: 5 })
  log.add("tool_result", `token sk-very-secret-value and ${"x".repeat(5000)}`, "t1")
  const last = log.read(undefined, 1).items[0]!
  expect(last.text).not.toContain("sk-very-secret-value")
  expect(last.text.length).toBeLessThan(2_100)
  expect(last.text).toContain("more characters")
  expect(last.taskId).toBe("t1")
  log.event({ type: "turn_end", result: { sessionId: "s", text: "t", ok: true, interrupted: false, subtype: "success", usage: { inputTokens: 10, outputTokens: 2, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }, costUsd: 0.5, durationMs: 12, durationApiMs: 1, numTurns: 1, permissionDenials: [], errors: [] } }, null)
  expect(log.read(undefined, 1).items[0]).toMatchObject({ kind: "turn_end", text: "ok: 10 in / 2 out tokens, $0.500000, 12 ms", taskId: null })
})

test("attach control messages are checked", () => {
  expect(parseClientText('{"type":"resize","cols":100,"rows":30}')).toEqual({ type: "resize", cols: 100, rows: 30 })
  expect(parseClientText('{"type":"input","data":"ls\\r"}')).toEqual({ type: "input", data: "ls\r" })
  for (const bad of ['{"type":"resize","cols":0,"rows":30}', '{"type":"resize","cols":1.5,"rows":3}', '{"type":"resize","cols":5000,"rows":3}', '{"type":"kill"}', "not json"]) expect(parseClientText(bad)).toBeUndefined()
})

test("pool options map cca.toml: permissions per role, timeouts, circuit; dangerous mode is warned about at start", () => {
  const config = v.parse(CcaConfig, {
    agents: { max_agents: 3, spawn_timeout_s: 12, restart_backoff_s: 2, circuit_cooldown_s: 5, permissions: { allowed_tools: ["Read"], roles: { qa: { mode: "dangerous" } } } },
  })
  const o = poolOptions(config, { workspace: "/w" })
  expect(o).toMatchObject({ maxAgents: 3, readyTimeoutMs: 12_000, restartBaseMs: 2_000, workspace: "/w", driver: "stream", circuit: { threshold: 3, windowMs: 60_000, cooldownMs: 5_000 } })
  expect(permissionsFromConfig(config.agents.permissions)).toEqual({ mode: "allowlist", allowed_tools: ["Read"], disallowed_tools: [], allow_network: false, roles: { qa: { mode: "dangerous" } } })
  expect(poolWarnings(config)).toEqual([expect.stringContaining("role qa")])
  expect(poolWarnings(v.parse(CcaConfig, {}))).toEqual([])
  expect(poolWarnings(v.parse(CcaConfig, { agents: { sandbox: "docker" } }))).toEqual([])
  expect(poolOptions(v.parse(CcaConfig, { agents: { sandbox: "docker", sandbox_roles: { qa: "none" }, team: "platform" } }))).toMatchObject({ sandbox: "docker", sandboxRoles: { qa: "none" }, sandboxTeam: "platform", sandboxOrg: undefined })
})
