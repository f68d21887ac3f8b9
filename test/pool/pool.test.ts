import { afterEach, expect, test, setDefaultTimeout } from "bun:test"
import { join } from "node:path"
import { readlinkSync } from "node:fs"
import { AgentBusyError, AgentStartError } from "../../src/agent/errors"
import { CancelledError } from "../../src/errors"
import { PoolFullError, TurnTimeoutError } from "../../src/pool/errors"
import { within } from "../support/claude"
import { cmdline, fakeClaude, nextEvent, poolSetup, processAlive, type PoolSetup } from "./support"

setDefaultTimeout(120_000)

// The pool with the real claude CLI against a scripted model.

let setup: PoolSetup | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

test("spawns agents of three roles; list, get and the state store show them; a task runs with the model's tokens", async () => {
  setup = await poolSetup([
    { match: { system: "# Role: backend", lastUserText: "add an endpoint" }, reply: { content: "endpoint added", usage: { input: 1500, output: 42, cacheCreation: 10, cacheRead: 300 } } },
    { match: { lastUserText: "hello" }, reply: { content: "hi there" } },
  ])
  const { pool, state } = setup
  const ready: string[] = []
  pool.on("ready", (e) => void ready.push(e.agentId))
  const [backend, frontend, security] = await Promise.all([pool.spawn({ role: "backend" }), pool.spawn({ role: "frontend", id: "fe-1" }), pool.spawn({ role: "security" })])
  expect(backend!.id).toMatch(/^backend-[0-9a-f]{8}$/)
  expect(frontend!.id).toBe("fe-1")
  expect(ready.sort()).toEqual([backend!.id, "fe-1", security!.id].sort())
  for (const a of [backend!, frontend!, security!]) {
    expect(a.status).toBe("idle")
    expect(processAlive(a.pid!)).toBe(true)
    expect(readlinkSync(`/proc/${a.pid}/cwd`)).toBe(setup.tmp.path)
  }
  expect(pool.list().map((a) => a.role).sort()).toEqual(["backend", "frontend", "security"])
  expect(pool.list({ role: "security" }).map((a) => a.id)).toEqual([security!.id])
  expect(pool.idle("frontend").map((a) => a.id)).toEqual(["fe-1"])
  expect(pool.capacity()).toEqual({ agents: 3, max: 8 })
  await pool.flush()
  const live = await state.getAgent(backend!.id)
  expect(live).toMatchObject({ id: backend!.id, role: "backend", status: "idle", daemonId: "test-daemon", pid: backend!.pid, metadata: { kind: "local", driver: "stream" } })

  const busy = nextEvent(pool, "busy", (e) => e.agentId === backend!.id)
  const idle = nextEvent(pool, "idle", (e) => e.agentId === backend!.id)
  const run = pool.run(backend!.id, { taskId: "0198f0c2-0000-7000-8000-000000000001", prompt: "add an endpoint" })
  expect(await busy).toMatchObject({ taskId: "0198f0c2-0000-7000-8000-000000000001" })
  expect(pool.get(backend!.id)).toMatchObject({ status: "busy", taskId: "0198f0c2-0000-7000-8000-000000000001" })
  await pool.flush()
  expect((await state.getAgent(backend!.id))?.status).toBe("busy")
  expect(await state.getAgent(backend!.id)).toMatchObject({ taskId: "0198f0c2-0000-7000-8000-000000000001" })
  await expect(pool.run(backend!.id, { prompt: "hello" })).rejects.toBeInstanceOf(AgentBusyError)
  const result = await run
  expect(result).toMatchObject({ ok: true, text: "endpoint added", usage: { inputTokens: 1500, outputTokens: 42, cacheCreationInputTokens: 10, cacheReadInputTokens: 300 } })
  expect(result.costUsd).toBeGreaterThan(0)
  await idle
  expect(pool.get(backend!.id)).toMatchObject({ status: "idle", taskId: null })
  await pool.flush()
  expect((await state.getAgent(backend!.id))?.status).toBe("idle")

  const direct = await pool.send("fe-1", "hello")
  expect(direct.text).toBe("hi there")
  const log = pool.logs(backend!.id)
  expect(log.items.map((e) => e.kind)).toEqual(expect.arrayContaining(["lifecycle", "prompt", "text", "turn_end"]))
  expect(log.items.find((e) => e.kind === "prompt")).toMatchObject({ text: "add an endpoint", taskId: "0198f0c2-0000-7000-8000-000000000001" })
  expect(log.items.find((e) => e.kind === "turn_end")!.text).toContain("1500 in / 42 out tokens")
  expect(pool.logs(backend!.id, { after: log.next }).items).toEqual([])

  const stopped = await pool.stop(security!.id)
  expect(stopped.status).toBe("stopped")
  expect(processAlive(security!.pid!)).toBe(false)
  expect(pool.list()).toHaveLength(2)
  expect(pool.get(security!.id)?.status).toBe("stopped")
  await pool.flush()
  expect(await state.getAgent(security!.id)).toBeUndefined()
})

test("max_agents refuses the next spawn with pool_full (409) and a hint, counting agents still starting", async () => {
  setup = await poolSetup([], { agents: { max_agents: 2 } })
  const { pool } = setup
  const first = pool.spawn({ role: "qa" })
  const second = pool.spawn({ role: "qa" })
  const third = await pool.spawn({ role: "qa" }).then(() => undefined, (e: unknown) => e)
  expect(third).toBeInstanceOf(PoolFullError)
  expect((third as InstanceType<typeof PoolFullError>).status).toBe(409)
  expect((third as InstanceType<typeof PoolFullError>).message).toContain("2 of agents.max_agents = 2")
  expect((third as InstanceType<typeof PoolFullError>).hint).toContain("agents.max_agents")
  expect(pool.canSpawn("qa")).toMatchObject({ ok: false, code: "pool_full" })
  const [a] = await Promise.all([first, second])
  await pool.stop(a!.id)
  expect(pool.canSpawn("qa")).toEqual({ ok: true })

  // agents.sandbox = "docker" whose org config cannot be read: refused, never run unconfined.
  setup.options.sandbox = "docker"
  setup.options.sandboxOrg = join(setup.tmp.path, "no-such-org.json")
  const before = pool.list().length
  const sandboxed = await pool.spawn({ role: "qa" }).then(() => undefined, (x: unknown) => x)
  expect((sandboxed as { code: string }).code).toBe("config")
  expect((sandboxed as Error).message).toContain("no-such-org.json")
  expect(pool.list()).toHaveLength(before)
  expect(pool.canSpawn("nobody")).toMatchObject({ ok: false, code: "unknown_role" })
})

test("a spawn that fails says why, with the agent's last output, and frees its place", async () => {
  setup = await poolSetup([], { agents: { max_agents: 1 } })
  const { pool, tmp } = setup
  const exits = await fakeClaude(tmp.path, "echo 'error: ANTHROPIC_API_KEY is invalid' >&2\nexit 3")
  setup.options.claudePath = exits
  const e = await pool.spawn({ role: "backend", id: "broken" }).then(() => undefined, (x: unknown) => x)
  expect(e).toBeInstanceOf(AgentStartError)
  const err = e as InstanceType<typeof AgentStartError>
  expect(err.status).toBe(502)
  expect(err.message).toContain("exited with code 3")
  expect(err.message).toContain("ANTHROPIC_API_KEY is invalid")
  expect(JSON.stringify(err.details)).toContain("ANTHROPIC_API_KEY is invalid")
  expect(pool.list()).toEqual([])
  expect(pool.get("broken")?.status).toBe("stopped")
  expect(pool.logs("broken").items.at(-1)!.text).toContain("spawn failed")

  // A claude that never gets ready runs into the spawn timeout (agents.spawn_timeout_s) and is killed.
  setup.options.claudePath = await fakeClaude(tmp.path, "echo 'waiting for a login that never comes' >&2\nexec sleep 60")
  setup.options.readyTimeoutMs = 400
  const slow = await pool.spawn({ role: "backend", id: "slow" }).then(() => undefined, (x: unknown) => x)
  expect(slow).toBeInstanceOf(AgentStartError)
  expect((slow as Error).message).toContain("not ready within 400 ms")
  expect((slow as Error).message).toContain("waiting for a login that never comes")
  expect(pool.list()).toEqual([])

  setup.options.claudePath = `${tmp.path}/no-such-claude`
  const missing = await pool.spawn({ role: "backend" }).then(() => undefined, (x: unknown) => x)
  expect(missing).toBeInstanceOf(AgentStartError)
  expect((missing as Error).message).toContain("cannot find the claude executable")
  expect((missing as InstanceType<typeof AgentStartError>).hint).toContain("install Claude Code")
  // Three failed starts of one role within the window: the role's circuit is open.
  expect(pool.canSpawn("backend")).toMatchObject({ ok: false, code: "role_degraded" })
  expect(pool.canSpawn("qa")).toEqual({ ok: true })

  // agents.sandbox = "docker" whose org config cannot be read: refused, never run unconfined.
  setup.options.sandbox = "docker"
  setup.options.sandboxOrg = join(setup.tmp.path, "no-such-org.json")
  const before = pool.list().length
  const sandboxed = await pool.spawn({ role: "qa" }).then(() => undefined, (x: unknown) => x)
  expect((sandboxed as { code: string }).code).toBe("config")
  expect((sandboxed as Error).message).toContain("no-such-org.json")
  expect(pool.list()).toHaveLength(before)
})

test("the spawned command line carries the allowlist flags, never --dangerously-skip-permissions", async () => {
  setup = await poolSetup([], { agents: { permissions: { mode: "allowlist", allowed_tools: ["Read", "Bash(git diff:*)"], disallowed_tools: [], allow_network: false, roles: { security: { mode: "sandbox" } } } } })
  const { pool } = setup
  const backend = await pool.spawn({ role: "backend" })
  const argv = cmdline(backend.pid!)
  expect(argv).not.toContain("--dangerously-skip-permissions")
  expect(argv.slice(argv.indexOf("--permission-mode"), argv.indexOf("--permission-mode") + 2)).toEqual(["--permission-mode", "dontAsk"])
  const allowed = argv.slice(argv.indexOf("--allowedTools") + 1, argv.indexOf("--disallowedTools"))
  expect(allowed).toEqual(["Read", "Bash(git diff:*)"])
  expect(argv.slice(argv.indexOf("--disallowedTools") + 1)).toEqual(expect.arrayContaining(["Bash(curl:*)", "Bash(wget:*)", "Bash(nc:*)", "WebFetch"]))
  expect(argv).toContain("--append-system-prompt")
  expect(argv[argv.indexOf("--append-system-prompt") + 1]).toStartWith("# Role: backend")

  const security = await pool.spawn({ role: "security" })
  const sec = cmdline(security.pid!)
  expect(sec.slice(sec.indexOf("--allowedTools") + 1, sec.indexOf("--disallowedTools"))).toEqual(["Read", "Glob", "Grep", "LS", "TodoWrite"])
  expect(sec.slice(sec.indexOf("--disallowedTools") + 1)).toEqual(expect.arrayContaining(["Edit", "Write"]))
  expect(sec).not.toContain("--dangerously-skip-permissions")
})

test('mode = "dangerous" (for one role) is the only way to --dangerously-skip-permissions', async () => {
  setup = await poolSetup([], { agents: { permissions: { mode: "allowlist", disallowed_tools: [], allow_network: false, roles: { qa: { mode: "dangerous" } } } } })
  // Claude Code refuses to skip permissions as root (tests run as root in CI) unless told it is in a sandbox.
  setup.options.env = { ...setup.options.env, IS_SANDBOX: "1" }
  const qa = await setup.pool.spawn({ role: "qa" })
  expect(cmdline(qa.pid!)).toContain("--dangerously-skip-permissions")
  const backend = await setup.pool.spawn({ role: "backend" })
  expect(cmdline(backend.pid!)).not.toContain("--dangerously-skip-permissions")
})

test("a run past its time limit is interrupted (timeout); an aborted run is cancelled; the agent stays usable", async () => {
  setup = await poolSetup([
    { match: { lastUserText: "slow one" }, reply: { content: "too late", delayMs: 60_000 } },
    { match: { lastUserText: "quick one" }, reply: { content: "quick answer" } },
  ])
  const { pool, model } = setup
  const a = await pool.spawn({ role: "backend" })
  const timedOut = await within(pool.run(a.id, { taskId: null, prompt: "slow one", timeoutMs: 1_500 }).then(() => undefined, (e: unknown) => e), 15_000, "the timeout")
  expect(timedOut).toBeInstanceOf(TurnTimeoutError)
  expect((timedOut as Error).message).toContain("did not finish within 2 s")
  expect(pool.get(a.id)!.status).toBe("idle")

  const abort = new AbortController()
  const seen = model.requests.length
  const running = pool.run(a.id, { taskId: null, prompt: "slow one" }, abort.signal)
  await model.waitFor((r) => r.conversation?.lastUserText === "slow one" && r.seq > seen)
  abort.abort()
  const cancelled = await within(running.then(() => undefined, (e: unknown) => e), 15_000, "the cancel")
  expect(cancelled).toBeInstanceOf(CancelledError)
  expect(((cancelled as InstanceType<typeof CancelledError>).details as { result: { interrupted: boolean } }).result.interrupted).toBe(true)
  expect((await pool.run(a.id, { prompt: "quick one" })).text).toBe("quick answer")
})
