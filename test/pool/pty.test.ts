import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test"
import { readdirSync, readFileSync, readlinkSync } from "node:fs"
import { join } from "node:path"
import { plainText } from "../../src/agent/pty-driver"
import { CLAUDE, claudeEnv, SONNET, within } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import { testDaemon, type TestDaemon } from "../daemon/harness"

setDefaultTimeout(120_000)

// A pty agent of the daemon's pool: its hooks post to the daemon's hook route
// (the only way its turns end), and people attach to its terminal over a
// WebSocket with the daemon's API key.

let model: ModelServer
let t: TestDaemon

beforeAll(async () => {
  model = await startModelServer([{ match: { lastUserText: "draw a button" }, reply: { content: "button drawn", usage: { input: 700, output: 20 } } }])
  t = await testDaemon({ agents: { claude_path: CLAUDE, model: SONNET } }, { pool: { env: claudeEnv(model), mcpCommand: null } })
}, 120_000)

afterAll(async () => {
  await t?.[Symbol.asyncDispose]()
  await model?.close()
})

type Viewer = {
  ws: WebSocket
  texts: Record<string, unknown>[]
  output(): string
  waitFor(pred: () => boolean, what: string, ms?: number): Promise<void>
  closed: Promise<{ code: number; reason: string }>
}

function attach(id: string, key: string | null): Viewer {
  const ws = new WebSocket(`${t.daemon.http.replace(/^http/, "ws")}/api/v1/agents/${id}/attach`, { headers: key ? { authorization: `Bearer ${key}` } : {} })
  ws.binaryType = "arraybuffer"
  const texts: Record<string, unknown>[] = []
  const decoder = new TextDecoder()
  let raw = ""
  const waiters = new Set<() => void>()
  ws.onmessage = (ev) => {
    if (typeof ev.data === "string") texts.push(JSON.parse(ev.data))
    else raw += decoder.decode(ev.data as ArrayBuffer, { stream: true })
    for (const w of waiters) w()
  }
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (ws.onclose = (ev) => resolve({ code: ev.code, reason: ev.reason })))
  return {
    ws,
    texts,
    // Cursor moves stand in for spaces on a drawn screen: compare without whitespace.
    output: () => plainText(raw).replace(/\s+/g, ""),
    closed,
    waitFor(pred, what, ms = 30_000) {
      return within(
        new Promise<void>((resolve) => {
          const check = () => pred() && (waiters.delete(check), resolve())
          waiters.add(check)
          check()
        }),
        ms,
        `${what}; terminal so far:\n${plainText(raw).slice(-1500)}`,
      )
    },
  }
}

const opened = (ws: WebSocket) => new Promise<void>((resolve, reject) => ((ws.onopen = () => resolve()), (ws.onerror = (e) => reject(new Error(`WebSocket failed: ${(e as ErrorEvent).message}`)))))

test("attach replays the terminal and streams it live; input and resize reach the terminal; the Stop hook through the daemon ends the turn", async () => {
  const spawned = await t.json("POST", "/api/v1/agents", { role: "frontend", driver: "pty", id: "pty-1" })
  expect(spawned.status).toBe(201)
  expect(spawned.body).toMatchObject({ driver: "pty", status: "idle" })
  const pid = spawned.body.pid as number

  const first = attach("pty-1", t.key)
  await opened(first.ws)
  // Claude Code's SessionStart hook (which makes the agent idle) can come before it draws its UI, so the
  // banner may arrive in the replay or live; the late viewer below is the check that the replay works.
  await first.waitFor(() => first.texts.length > 0 && first.output().includes("ClaudeCode"), "the hello and Claude Code's banner")
  expect(first.texts[0]).toEqual({ type: "attached", agentId: "pty-1", cols: 120, rows: 40 })

  // A prompt through the API: the viewer sees the turn live; it ends only when the Stop hook reaches the daemon.
  const sent = await t.json("POST", "/api/v1/agents/pty-1/send", { message: "draw a button" })
  expect(sent.status).toBe(200)
  expect(sent.body.result).toMatchObject({ ok: true, text: "button drawn", usage: { inputTokens: 700, outputTokens: 20 } })
  await first.waitFor(() => first.output().includes("buttondrawn"), "the answer on the terminal")
  const hooks = (await t.json("GET", "/api/v1/agents/pty-1/logs")).body.items.filter((e: { kind: string }) => e.kind === "hook").map((e: { text: string }) => e.text)
  expect(hooks).toEqual(expect.arrayContaining(["UserPromptSubmit", "Stop"]))

  // A person types: the keys reach Claude Code's input box (and are echoed back to every viewer).
  first.ws.send(new TextEncoder().encode("typed by a person"))
  await first.waitFor(() => first.output().includes("typedbyaperson"), "the typed text on the terminal")

  // Resize: the pseudo-terminal itself changes size (read back from its device).
  const mark = first.output().length
  first.ws.send(JSON.stringify({ type: "resize", cols: 90, rows: 33 }))
  first.ws.send(JSON.stringify({ type: "input", data: "Zq9" }))
  await first.waitFor(() => first.output().slice(mark).includes("Zq9"), "the input sent after the resize")
  const tty = readlinkSync(`/proc/${pid}/fd/0`)
  expect(tty).toMatch(/^\/dev\/pts\/\d+$/)
  expect(Bun.spawnSync(["stty", "-F", tty, "size"]).stdout.toString().trim()).toBe("33 90")
  first.ws.send(JSON.stringify({ type: "input", data: "\x15" })) // Ctrl-U: leave the input box empty

  // The hooks' bearer token (the daemon's agent key) is in the agent's environment, not in its settings file or any other.
  const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")
  const token = environ.find((kv) => kv.startsWith("CCA_HOOK_TOKEN="))!.slice("CCA_HOOK_TOKEN=".length)
  expect(token).toMatch(/^cca_/)
  const stateDir = join(t.tmp.path, "agents", "pty-1")
  expect(readFileSync(join(stateDir, "settings.json"), "utf8")).toContain("Bearer $CCA_HOOK_TOKEN")
  for (const f of readdirSync(stateDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())) {
    const path = join(f.parentPath, f.name)
    expect({ path, leaks: readFileSync(path, "latin1").includes(token) }).toEqual({ path, leaks: false })
  }

  // A late viewer gets the past from the ring buffer, at the new size.
  const second = attach("pty-1", t.key)
  await opened(second.ws)
  await second.waitFor(() => second.output().includes("buttondrawn"), "the replay of the earlier turn")
  expect(second.texts[0]).toMatchObject({ type: "attached", cols: 90, rows: 33 })

  // A bad control message closes that viewer only.
  second.ws.send("{\"type\":\"explode\"}")
  expect((await within(second.closed, 10_000, "the bad viewer to be closed")).code).toBe(4400)

  // Stopping the agent tells the viewer and closes it.
  await t.json("POST", "/api/v1/agents/pty-1/stop")
  expect((await within(first.closed, 15_000, "the viewer to be closed")).code).toBe(1000)
  expect(first.texts.at(-1)).toEqual({ type: "stopped" })
})

test("attach without a key is refused before the upgrade; an unknown agent is 404", async () => {
  const refused = await fetch(`${t.daemon.http}/api/v1/agents/pty-1/attach`, { headers: { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" } })
  expect(refused.status).toBe(401)
  const viewer = attach("no-such-agent", t.key)
  const failed = await viewer.closed
  expect(failed.code).not.toBe(1000)
  const notFound = await fetch(`${t.daemon.http}/api/v1/agents/no-such-agent/attach`, { headers: { authorization: `Bearer ${t.key}` } })
  expect(notFound.status).toBe(404)
})
