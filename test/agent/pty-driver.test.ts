import { afterEach, expect, test } from "bun:test"
import { readlinkSync } from "node:fs"
import { join } from "node:path"
import { createAgent } from "../../src/agent/agent"
import { AgentCrashedError, AgentStartError } from "../../src/agent/errors"
import { plainText } from "../../src/agent/pty-driver"
import { turnFailure } from "../../src/agent/stream-json"
import { isTerminalAgent, type AgentEvent, type AgentOptions, type TerminalAgent } from "../../src/agent/types"
import { CLAUDE, claudeEnv, SONNET, within } from "../support/claude"
import { startHookServer, type HookServer } from "../support/hook-server"
import { startModelServer, type ModelServer } from "../support/model-server"
import type { Rule } from "../support/model-script"
import { tmpdir } from "../support/tmpdir"

// The interactive Claude Code UI in a real pseudo-terminal, turn ends from its
// hooks posting to a local server (the daemon's role in production).

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

type Setup = { model: ModelServer; hooks: HookServer; agent: TerminalAgent; events: AgentEvent[] }

async function startPty(rules: Rule[], o: Partial<AgentOptions> = {}): Promise<Setup> {
  const model = await startModelServer(rules)
  const hooks = await startHookServer()
  const tmp = await tmpdir({ prefix: "agent-pty-" })
  cleanup.push(() => tmp[Symbol.asyncDispose](), () => hooks.close(), () => model.close())
  const agent = await createAgent({
    id: "pty1",
    role: "frontend",
    driver: "pty",
    cwd: tmp.path,
    stateDir: join(tmp.path, ".state"),
    claudePath: CLAUDE,
    model: SONNET,
    hooks: { url: hooks.url, token: hooks.token },
    terminal: { cols: 100, rows: 30 },
    ...o,
    env: { ...claudeEnv(model), ...o.env },
  })
  if (!isTerminalAgent(agent)) throw new Error("expected a pty agent")
  const events: AgentEvent[] = []
  agent.subscribe((e) => events.push(e))
  hooks.route(agent)
  cleanup.push(() => agent.stop())
  await agent.start()
  return { model, hooks, agent, events }
}

test("starts with no dialog; a pasted prompt runs a turn that ends on the injected Stop hook", async () => {
  const usage = { input: 900, output: 30, cacheCreation: 120, cacheRead: 4000 }
  const { agent, hooks, model, events } = await startPty([{ match: { lastUserText: "draw a button" }, reply: { content: "button drawn", usage } }])
  expect(agent.status()).toBe("idle")
  expect(agent.argv).toContain("--settings")
  expect(agent.argv).not.toContain("-p")

  const turn = agent.send("draw a button")
  const result = await within(turn.done, 30_000, "the Stop hook to end the turn")
  expect(result.text).toBe("button drawn")
  expect(result.ok).toBe(true)
  expect(result.sessionId).toBe(agent.sessionId())
  expect(result.usage).toEqual({ inputTokens: 900, outputTokens: 30, cacheCreationInputTokens: 120, cacheReadInputTokens: 4000 })
  expect(agent.status()).toBe("idle")

  // The prompt arrived whole, as one user message, and the hooks posted with the token from the agent's env.
  expect(model.turns().map((t) => t.conversation!.lastUserText)).toEqual(["draw a button"])
  const submit = await hooks.waitFor((c) => c.event === "UserPromptSubmit")
  expect(submit.body.prompt).toBe("draw a button")
  expect(submit.body.permission_mode).toBe("dontAsk") // the allowlist holds in the interactive UI too
  const stop = await hooks.waitFor((c) => c.event === "Stop")
  expect(stop.agent).toBe("pty1")
  expect(stop.authorization).toBe(`Bearer ${hooks.token}`)
  expect(agent.argv.join(" ")).not.toContain(hooks.token)
  expect(events.filter((e) => e.type === "turn_end")).toHaveLength(1)

  // No first-run dialog was ever drawn.
  const screen = plainText(agent.attach(() => {}).replay)
  for (const dialog of ["trust this folder", "Do you want to use this API key", "Choose the text style", "Yes, I accept"]) expect(screen).not.toContain(dialog)
})

test("a turn the API refuses ends on StopFailure as a failed turn with the API's status and text; the next turn runs", async () => {
  const { agent, hooks } = await startPty(
    [
      { match: { lastUserText: "a request the API refuses" }, reply: { content: "", error: { status: 400, type: "invalid_request_error", message: "prompt is malformed (scripted)" } } },
      { match: { lastUserText: "a request the API is too busy for" }, reply: { content: "", error: { status: 529, type: "overloaded_error", message: "Overloaded" } } },
      { match: { lastUserText: "draw a button" }, reply: { content: "button drawn" } },
    ],
    { env: { CLAUDE_CODE_MAX_RETRIES: "0" } },
  )
  const refused = await within(agent.send("a request the API refuses").done, 30_000, "the refused turn to end")
  expect(refused).toMatchObject({ ok: false, subtype: "api_error", apiError: { status: 400 }, text: "prompt is malformed (scripted)" })
  const failure = turnFailure(refused)
  expect(failure.code).toBe("model_api_error")
  expect(failure.message).toContain("HTTP 400")
  expect(failure.message).toContain("prompt is malformed (scripted)")
  expect((await hooks.waitFor((c) => c.event === "StopFailure")).body.last_assistant_message).toBe("API Error: 400 prompt is malformed (scripted)")
  expect(agent.status()).toBe("idle")

  const busy = await within(agent.send("a request the API is too busy for").done, 60_000, "the overloaded turn to end")
  expect(busy).toMatchObject({ ok: false, apiError: { status: 529 } })
  expect(turnFailure(busy).message).toContain("HTTP 529")

  const next = await within(agent.send("draw a button").done, 30_000, "the next turn")
  expect(next).toMatchObject({ ok: true, text: "button drawn" })
})

test("terminal output is kept in a bounded ring buffer and replayed to a late viewer", async () => {
  const { agent, events } = await startPty([{ match: { lastUserText: "say something" }, reply: { content: "something" } }], { terminal: { cols: 100, rows: 30, bufferSize: 512 } })
  await within(agent.send("say something").done, 30_000, "the turn")
  const output = () => events.flatMap((e) => (e.type === "output" ? [e.data] : [])).join("")

  const late: string[] = []
  const { replay, detach } = agent.attach((d) => late.push(d))
  const everything = output()
  expect(replay.length).toBe(512)
  expect(everything.length).toBeGreaterThan(replay.length) // the buffer really dropped old output (how much more depends on the spinner's redraws: 990 characters under CI's load)
  expect(everything.endsWith(replay)).toBe(true)

  // Output after attaching reaches the viewer, and stops after detaching.
  agent.resize(90, 28) // Claude Code redraws on SIGWINCH
  await within(waitUntil(() => late.length > 0), 10_000, "output after attach")
  detach()
  const count = late.length
  agent.resize(100, 30)
  await within(waitUntil(() => output().length > everything.length + late.join("").length), 10_000, "a redraw")
  expect(late.length).toBe(count)
})

test("resize changes the size of the agent's terminal", async () => {
  const { agent } = await startPty([])
  expect(ttySize(agent.pid!)).toEqual({ rows: 30, cols: 100 })
  agent.resize(132, 43)
  expect(agent.size()).toEqual({ cols: 132, rows: 43 })
  expect(ttySize(agent.pid!)).toEqual({ rows: 43, cols: 132 })
})

test("a Notification hook marks the agent as waiting for a person", async () => {
  const { agent, hooks, events } = await startPty([])
  const r = await fetch(hooks.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${hooks.token}`, "x-cca-agent": agent.id },
    body: JSON.stringify({ hook_event_name: "Notification", session_id: agent.sessionId(), message: "Claude needs your permission to use Bash", notification_type: "permission_prompt" }),
  })
  expect(r.status).toBe(200)
  expect(agent.status()).toBe("waiting")
  expect(events).toContainEqual({ type: "waiting", message: "Claude needs your permission to use Bash" })
})

test("interrupt ends a long pty turn; a killed pty agent is reported as a crash", async () => {
  const { agent, model } = await startPty([
    { match: { lastUserText: "long" }, reply: { content: "too late", delayMs: 60_000 } },
    { match: { lastUserText: "hang" }, reply: { content: "never", delayMs: 60_000 } },
  ])
  const long = agent.send("long")
  await model.waitFor((r) => r.conversation?.lastUserText === "long")
  await agent.interrupt()
  const r = await within(long.done, 10_000, "the interrupted turn")
  expect(r.interrupted).toBe(true)
  expect(agent.status()).toBe("idle")

  const hang = agent.send("hang")
  await model.waitFor((x) => x.conversation?.lastUserText === "hang")
  process.kill(agent.pid!, "SIGKILL")
  const error = await within(hang.done.then(() => undefined, (e: unknown) => e), 10_000, "the crash")
  expect(error).toBeInstanceOf(AgentCrashedError)
  expect(agent.status()).toBe("crashed")
  expect(agent.lastOutput()).toContain("hang")
})

async function waitUntil(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise((r) => setTimeout(r, 20))
}

/** The window size of the process's controlling terminal, read with stty. */
function ttySize(pid: number): { rows: number; cols: number } {
  const tty = readlinkSync(`/proc/${pid}/fd/0`)
  const out = Bun.spawnSync(["stty", "-F", tty, "size"]).stdout.toString().trim()
  const [rows, cols] = out.split(" ").map(Number)
  return { rows: rows!, cols: cols! }
}

test("side requests (the session title) are told apart from the agent's turns", async () => {
  // Nonessential traffic on: the interactive UI then asks the model for a session title.
  const { agent, model } = await startPty([{ match: { side: false, lastUserText: "build the login page" }, reply: { content: "login page built" } }], {
    env: { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "" },
  })
  const r = await within(agent.send("build the login page").done, 30_000, "the turn")
  expect(r.text).toBe("login page built")
  const title = await model.waitFor((x) => x.conversation?.side === true, 10_000)
  expect(title.conversation!.tools).toEqual([])
  expect(title.rule).toBe("default")
  expect(JSON.parse(String(title.reply!.content))).toEqual({ title: "Scripted session" })
  expect(model.turns().map((t) => t.rule)).toEqual(["rule#0"])
})

test("a pty agent stuck on a dialog fails to start, and the error shows the screen", async () => {
  const tmp = await tmpdir({ prefix: "agent-pty-stuck-" })
  const hooks = await startHookServer()
  cleanup.push(() => tmp[Symbol.asyncDispose](), () => hooks.close())
  const script = join(tmp.path, "dialog-claude")
  await Bun.write(script, "#!/bin/sh\nprintf '\\033[1mDo you trust the files in this folder?\\033[0m (y/n) '\nexec sleep 60\n")
  Bun.spawnSync(["chmod", "+x", script])
  const agent = await createAgent({ id: "stuck", role: "qa", driver: "pty", cwd: tmp.path, stateDir: join(tmp.path, ".state"), claudePath: script, hooks: { url: hooks.url }, readyTimeoutMs: 1_000 })
  const error = await agent.start().then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(AgentStartError)
  expect((error as Error).message).toContain("did not start within 1000 ms")
  expect(((error as InstanceType<typeof AgentStartError>).details as { lastOutput: string }).lastOutput).toContain("Do you trust the files in this folder? (y/n)")
  expect(agent.status()).toBe("stopped")
})
