import { afterAll, beforeAll, expect, test } from "bun:test"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { RETRY_OPEN } from "../../src/tokens/snapshots"
import { readTranscripts, transcriptActivity } from "../../src/tokens/transcript-context"
import { CLAUDE, claudeEnv, SONNET } from "../support/claude"
import { startModelServer, type ModelServer } from "../support/model-server"
import { taskEvent, testDaemon, type TestDaemon } from "../daemon/harness"

// Snapshots from what the agent really did: a daemon (PGlite) with a pool of
// real `claude` processes against the scripted model server. The first
// attempt's agent writes a file, reads it back, says where it is and runs a
// Glob, then its process is killed mid-turn. The retry's prompt is built from
// that agent's Claude Code transcript (tool calls, files touched, its last
// words), and the snapshot says it came from the transcript.

let model: ModelServer
let t: TestDaemon
let work = ""
const TASK = "ctx: fix the tokenizer off-by-one"

beforeAll(async () => {
  model = await startModelServer([
    { name: "write", times: 1, match: { lastUserText: TASK, toolResult: false }, reply: () => ({ content: [{ type: "tool_use", name: "Write", input: { file_path: join(work, "tokenizer-fix.ts"), content: "export const end = (s: string) => s.length - 1\n" } }] }) },
    { name: "read", times: 1, match: { toolResult: { name: "Write" } }, reply: () => ({ content: [{ type: "tool_use", name: "Read", input: { file_path: join(work, "tokenizer-fix.ts") } }] }) },
    { name: "glob", times: 1, match: { toolResult: { name: "Read" } }, reply: { content: [{ type: "text", text: "The off-by-one fix is in tokenizer-fix.ts; next I look for its callers." }, { type: "tool_use", name: "Glob", input: { pattern: "**/*.ts" } }] } },
    { name: "hang", times: 1, match: { toolResult: { name: "Glob" } }, reply: { content: "never", delayMs: 120_000 } },
    { name: "retry", match: { lastUserText: new RegExp(RETRY_OPEN) }, reply: { content: "callers updated" } },
  ])
  t = await testDaemon({ agents: { claude_path: CLAUDE, model: SONNET, max_agents: 2 } }, { pool: { env: claudeEnv(model), mcpCommand: null } })
  work = t.tmp.path
}, 120_000)
afterAll(async () => {
  await t?.[Symbol.asyncDispose]()
  await model?.close()
})

test("a retried task goes on from the lost agent's own transcript: tool calls, files touched, its last words", async () => {
  for (let i = 0; i < 2; i++) expect((await t.json("POST", "/api/v1/agents", { role: "backend" })).status).toBe(201)
  const { body } = await t.json("POST", "/api/v1/tasks", { description: TASK, role: "backend", maxAttempts: 3 })
  const id = body.id as string
  await model.waitFor((r) => r.rule === "hang", 90_000)
  expect(existsSync(join(work, "tokenizer-fix.ts"))).toBe(true)
  const running = (await t.json("GET", `/api/v1/tasks/${id}`)).body
  const victim = running.agentId as string
  const pid = (await t.json("GET", `/api/v1/agents/${victim}`)).body.pid as number
  // Claude Code writes its transcript a little after the request it sent: kill only once the Glob call is in it (under CI's load it was not yet).
  const transcriptHas = (text: string) => Array.from(new Bun.Glob("**/*.jsonl").scanSync({ cwd: join(work, "agents", victim), absolute: true, dot: true })).some((f: string) => readFileSync(f, "utf8").includes(text))
  for (const deadline = Date.now() + 30_000; !transcriptHas('"name":"Glob"'); ) {
    if (Date.now() > deadline) throw new Error("the Glob call never reached the agent's transcript")
    await Bun.sleep(20)
  }
  const done = taskEvent(t, id, "completed", 90_000)
  process.kill(pid, "SIGKILL")
  await done

  // the prompt the second attempt's model saw
  const retry = model.requests.find((r) => r.rule === "retry")!
  const prompt = retry.conversation!.lastUserText!
  expect(prompt).toStartWith(RETRY_OPEN)
  expect(prompt).toContain("from the agents' session transcripts")
  expect(prompt).toContain(`Attempt 1 (agent ${victim}): started the work; requeued`)
  expect(prompt).toMatch(/Tool calls: 3 \((?=.*Write ×1)(?=.*Read ×1)(?=.*Glob ×1)/)
  expect(prompt).toContain(`Files touched: ${join(work, "tokenizer-fix.ts")}.`)
  expect(prompt).toContain("Its last words: The off-by-one fix is in tokenizer-fix.ts; next I look for its callers.")
  expect(prompt).toContain("[tool Glob: **/*.ts]")
  expect(prompt).toEndWith(TASK)

  // stored with its source; the context is the whole transcript of the attempt, zstd-compressed
  const rows = await t.daemon.ctx.store.sql.query<{ agent_id: string; strategy: string; codec: string; data: Uint8Array; metadata: Record<string, unknown> }>(
    "SELECT agent_id, strategy, codec, data, metadata FROM context_snapshots WHERE task_id = $1",
    [id],
  )
  expect(rows).toHaveLength(1)
  expect(rows[0]).toMatchObject({ agent_id: victim, strategy: "transcript_summary", codec: "zstd", metadata: { source: "transcript", sources: ["transcript"] } })
  const context = Buffer.from(Bun.zstdDecompressSync(Buffer.from(rows[0]!.data))).toString()
  expect(context).toContain("(from its transcript)")
  expect(context).toContain("export const end = (s: string) => s.length - 1") // the Read's result, uncut
  const sessions = rows[0]!.metadata.sessions as string[]
  expect(sessions).toHaveLength(1)
  // the same session file Claude Code wrote, read independently
  const activity = transcriptActivity(await readTranscripts(join(t.tmp.path, "agents", victim), 0), 0)
  expect(activity.sessions).toEqual(sessions)
  expect(activity.tools.map((c) => c.name)).toEqual(["Write", "Read", "Glob"])

  const accepted = (await t.daemon.ctx.store.events.list(id)).filter((e) => e.type === "accepted")
  expect(accepted[1]!.data).toMatchObject({ prompt: { retry_context: { from_agent: victim, source: "transcript" } } })
}, 180_000)
