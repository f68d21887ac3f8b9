import { afterEach, expect, test } from "bun:test"
import { readlinkSync } from "node:fs"
import { join } from "node:path"
import { startAgent } from "../../src/agent/agent"
import { loadRole } from "../../src/agent/roles"
import { AgentBusyError, AgentCrashedError, AgentStartError } from "../../src/agent/errors"
import type { Agent, AgentEvent, AgentOptions } from "../../src/agent/types"
import { CLAUDE, claudeEnv, SONNET, sonnetCost, within } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import { tmpdir, type TmpDir } from "../support/tmpdir"

// The stream driver against the real claude CLI and a scripted model.

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

async function setup(rules: Parameters<typeof startModelServer>[0]): Promise<{ model: ModelServer; tmp: TmpDir; opts: (o?: Partial<AgentOptions>) => AgentOptions }> {
  const model = await startModelServer(rules)
  const tmp = await tmpdir({ prefix: "agent-stream-" })
  cleanup.push(() => model.close(), () => tmp[Symbol.asyncDispose]())
  const opts = (o: Partial<AgentOptions> = {}): AgentOptions => ({
    id: "a1",
    role: "backend",
    cwd: tmp.path,
    stateDir: join(tmp.path, ".state"),
    claudePath: CLAUDE,
    model: SONNET,
    env: claudeEnv(model),
    ...o,
  })
  return { model, tmp, opts }
}

async function started(opts: AgentOptions): Promise<Agent> {
  const agent = await startAgent(opts)
  cleanup.push(() => agent.stop())
  return agent
}

test("two turns in one session: session id stable, tokens and cost per turn as the model sent them", async () => {
  const first = { input: 1200, output: 40, cacheCreation: 300, cacheRead: 5000 }
  const second = { input: 800, output: 25, cacheCreation: 0, cacheRead: 7000 }
  const { model, opts } = await setup([
    { match: { lastUserText: "first question" }, reply: { content: "first answer", usage: first } },
    { match: { lastUserText: "second question" }, reply: { content: "second answer", usage: second } },
  ])
  const agent = await started(opts())
  expect(agent.status()).toBe("idle")
  const sessionId = agent.sessionId()
  expect(sessionId).toMatch(/^[0-9a-f-]{36}$/)

  const events: AgentEvent[] = []
  const turn1 = agent.send("first question")
  for await (const e of turn1.events) events.push(e)
  const r1 = await turn1.done
  expect(r1.text).toBe("first answer")
  expect(r1.ok).toBe(true)
  expect(r1.sessionId).toBe(sessionId)
  expect(r1.usage).toEqual({ inputTokens: 1200, outputTokens: 40, cacheCreationInputTokens: 300, cacheReadInputTokens: 5000 })
  expect(r1.costUsd).toBeCloseTo(sonnetCost(first), 9)
  expect(events.map((e) => e.type)).toEqual(["status", "init", "text", "turn_end"])
  expect(agent.status()).toBe("idle")

  const r2 = await agent.send("second question").done
  expect(r2.text).toBe("second answer")
  expect(r2.sessionId).toBe(sessionId)
  expect(r2.usage).toEqual({ inputTokens: 800, outputTokens: 25, cacheCreationInputTokens: 0, cacheReadInputTokens: 7000 })
  expect(r2.costUsd).toBeCloseTo(sonnetCost(second), 9)
  expect(agent.lastOutput()).toBe("second answer")

  // One process, one conversation: the second request carries the first exchange.
  const turns = model.turns()
  expect(turns).toHaveLength(2)
  expect(turns[1]!.conversation!.turns).toBeGreaterThan(turns[0]!.conversation!.turns)
  expect(turns.every((t) => t.headers["x-claude-code-session-id"] === sessionId)).toBe(true)
})

test("a second prompt while a turn runs is refused with agent_busy", async () => {
  const { model, opts } = await setup([{ match: { lastUserText: "slow" }, reply: { content: "done", delayMs: 3_000 } }])
  const agent = await started(opts())
  const turn = agent.send("slow")
  expect(() => agent.send("another")).toThrow(AgentBusyError)
  await model.waitFor((r) => r.conversation?.lastUserText === "slow")
  await agent.interrupt()
  await turn.done
})

test("interrupt cuts a long turn short; the agent takes the next prompt in the same session", async () => {
  const { model, opts } = await setup([
    { match: { lastUserText: "long task" }, reply: { content: "too late", delayMs: 60_000 } },
    { match: { lastUserText: "after" }, reply: { content: "still here" } },
  ])
  const agent = await started(opts())
  const turn = agent.send("long task")
  const pending = await model.waitFor((r) => r.conversation?.lastUserText === "long task")
  const t0 = performance.now()
  await agent.interrupt()
  const r = await within(turn.done, 10_000, "the interrupted turn to end")
  expect(performance.now() - t0).toBeLessThan(10_000)
  expect(r.interrupted).toBe(true)
  expect(r.ok).toBe(false)
  expect(r.text).not.toContain("too late")
  await model.waitFor((x) => x.seq === pending.seq && x.aborted === true, 5_000)
  expect(agent.status()).toBe("idle")

  const next = await agent.send("after").done
  expect(next.text).toBe("still here")
  expect(next.sessionId).toBe(agent.sessionId())
})

test("stop ends the process; the session resumes by id in a new agent with its history", async () => {
  const { model, opts } = await setup([
    { match: { lastUserText: "remember 42" }, reply: { content: "noted" } },
    { match: { lastUserText: "what number" }, reply: (c) => ({ content: c.turns > 2 ? "resumed with history" : "no history" }) },
  ])
  const first = await started(opts())
  const pid = first.pid!
  await first.send("remember 42").done
  const sessionId = first.sessionId()
  await first.stop()
  expect(first.status()).toBe("stopped")
  expect(processAlive(pid)).toBe(false)
  expect(() => first.send("again")).toThrow()

  const second = await started(opts({ id: "a1-resumed", resumeSessionId: sessionId }))
  expect(second.sessionId()).toBe(sessionId)
  expect(second.argv).toContain("--resume")
  const r = await second.send("what number").done
  expect(r.text).toBe("resumed with history")
  expect(r.sessionId).toBe(sessionId)
  const last = model.turns().at(-1)!
  expect(JSON.stringify(last.body)).toContain("remember 42")
})

test("a killed claude process is reported as a crash, with the agent's last output", async () => {
  const { model, opts } = await setup([
    { match: { lastUserText: "warm up" }, reply: { content: "warmed up and ready" } },
    { match: { lastUserText: "hang" }, reply: { content: "never", delayMs: 60_000 } },
  ])
  const agent = await started(opts())
  await agent.send("warm up").done
  const exits: AgentEvent[] = []
  agent.subscribe((e) => e.type === "exit" && exits.push(e))
  const turn = agent.send("hang")
  await model.waitFor((r) => r.conversation?.lastUserText === "hang")
  process.kill(agent.pid!, "SIGKILL")
  const error = await within(turn.done.then(() => undefined, (e: unknown) => e), 10_000, "the turn to fail")
  expect(error).toBeInstanceOf(AgentCrashedError)
  expect((error as InstanceType<typeof AgentCrashedError>).message).toContain("SIGKILL")
  expect(((error as InstanceType<typeof AgentCrashedError>).details as { lastOutput: string }).lastOutput).toContain("warmed up and ready")
  expect(agent.status()).toBe("crashed")
  expect(exits).toHaveLength(1)
  expect(exits[0]).toMatchObject({ type: "exit", crashed: true, signal: "SIGKILL" })
  expect(agent.lastOutput()).toBe("warmed up and ready")
})

test("start fails with the process output when claude cannot run", async () => {
  const { opts, tmp } = await setup([])
  const script = join(tmp.path, "broken-claude")
  await Bun.write(script, "#!/bin/sh\necho 'no credentials configured' >&2\nexit 3\n")
  Bun.spawnSync(["chmod", "+x", script])
  const error = await startAgent(opts({ claudePath: script })).then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(AgentStartError)
  expect((error as Error).message).toContain("exited with code 3")
  expect(JSON.stringify((error as InstanceType<typeof AgentStartError>).details)).toContain("no credentials configured")
})

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test("the role prompt reaches the model's system prompt; the agent works in its own directory", async () => {
  const role = await loadRole("security")
  const { model, opts, tmp } = await setup([{ match: { system: "# Role: security", lastUserText: "review" }, reply: { content: "reviewing as security" } }])
  const agent = await started(opts({ role: "security", appendSystemPrompt: role.prompt }))
  const r = await agent.send("review").done
  expect(r.text).toBe("reviewing as security")
  expect(model.turns()[0]!.conversation!.system).toContain(role.prompt)
  expect(readlinkSync(`/proc/${agent.pid}/cwd`)).toBe(tmp.path)
})

test("a missing claude, or one that never gets ready, fails start with a named error and leaves no process", async () => {
  const { opts, tmp } = await setup([])
  const missing = await startAgent(opts({ claudePath: join(tmp.path, "no-such-claude") })).then(() => undefined, (e: unknown) => e)
  expect(missing).toBeInstanceOf(AgentStartError)
  expect((missing as InstanceType<typeof AgentStartError>).hint).toContain("npm install -g @anthropic-ai/claude-code")

  const silent = join(tmp.path, "silent-claude")
  await Bun.write(silent, "#!/bin/sh\nexec sleep 60\n")
  Bun.spawnSync(["chmod", "+x", silent])
  const { createAgent } = await import("../../src/agent/agent")
  const agent = await createAgent(opts({ claudePath: silent, readyTimeoutMs: 300 }))
  const error = await agent.start().then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(AgentStartError)
  expect((error as Error).message).toContain("not ready within 300 ms")
  expect(processAlive(agent.pid!)).toBe(false)
  expect(agent.status()).toBe("stopped")
})
