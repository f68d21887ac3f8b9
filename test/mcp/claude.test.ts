import { afterAll, beforeAll, expect, test } from "bun:test"
import { dirname, join } from "node:path"
import { writeFileSync } from "node:fs"
import type { AcpClient } from "../../src/acp/client"
import { startAgent } from "../../src/agent/agent"
import { ccaMcpServer } from "../../src/agent/mcp-config"
import { CLAUDE, claudeEnv, SONNET, TEST_API_KEY } from "../support/claude"
import { binary, cli } from "../support/cli"
import { startModelServer, type ModelServer, type RecordedRequest } from "../support/model-server"
import type { ToolResult } from "../support/model-script"
import { childEnv, startDaemon, type Daemon } from "./support"

// The real Claude Code as the MCP client. Only the model is scripted: it
// calls the cca tools by the names Claude Code gives them, Claude Code starts
// `cca mcp` from the plugin (or from its user config), the daemon runs the
// task on a worker over ACP, and the tool results come back to the model,
// where the model server records them.

const PLUGIN = join(import.meta.dir, "..", "..", "plugin")
const P = "mcp__plugin_cca_cca__"

let d: Daemon
let model: ModelServer
let worker: AcpClient
let env: Record<string, string>

beforeAll(async () => {
  d = await startDaemon()
  worker = await d.agent("cc-worker", "cc-docs", {
    taskAssign: (t) => {
      setTimeout(() => void worker.result({ taskId: t.taskId, status: "completed", output: `CHANGELOG written for: ${t.prompt}` }), 0)
      return { accepted: true }
    },
  })
  const id = (r: ToolResult) => /Task (\S+) completed/.exec(r.text)?.[1] ?? "unknown"
  model = await startModelServer([
    { match: { lastUserText: "drive cca", toolResult: false }, reply: { content: [{ type: "tool_use", name: `${P}cca_task`, input: { description: "write the changelog", role: "cc-docs", wait: true } }] } },
    { match: { toolResult: { name: `${P}cca_task` } }, reply: (c) => ({ content: [{ type: "tool_use", name: `${P}cca_status`, input: { task_id: id(c.toolResults[0]!) } }] }) },
    { match: { toolResult: { name: `${P}cca_status` } }, reply: { content: [{ type: "tool_use", name: `${P}cca_agents`, input: {} }] } },
    { match: { toolResult: { name: `${P}cca_agents` } }, reply: { content: "all three tools answered" } },
    { match: { lastUserText: "installed plugin", toolResult: false }, reply: { content: [{ type: "tool_use", name: `${P}cca_agents`, input: { role: "cc-docs" } }] } },
    { match: { lastUserText: "installed server", toolResult: false }, reply: { content: [{ type: "tool_use", name: "mcp__cca__cca_workloads", input: {} }] } },
    { match: { lastUserText: /^Call the `cca_agents` tool/, toolResult: false }, reply: { content: [{ type: "tool_use", name: "mcp__cca__cca_agents", input: {} }] } },
    { match: { lastUserText: "split the docs work", toolResult: false }, reply: { content: [{ type: "tool_use", name: "mcp__cca__cca_delegate", input: { task: "document the API", role: "cc-docs", wait: true } }] } },
    { match: { toolResult: true }, reply: { content: "done" } },
  ])
  // HOME for claude; `cca` on PATH for the repository's plugin/.mcp.json.
  env = childEnv({ ...d.home, ...claudeEnv(model), CCA_DAEMON_URL: d.http, CCA_API_KEY: d.key, PATH: `${dirname(binary("cca"))}:${process.env.PATH}` })
  writeFileSync(join(d.home.HOME!, ".claude.json"), JSON.stringify({ hasCompletedOnboarding: true, customApiKeyResponses: { approved: [TEST_API_KEY.slice(-20)], rejected: [] } }))
}, 90_000)

afterAll(async () => {
  await model?.close()
  await d?.[Symbol.asyncDispose]()
})

async function runClaude(prompt: string, extra: string[]): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([CLAUDE, "-p", prompt, "--model", SONNET, "--output-format", "json", ...extra], { env, cwd: d.tmp.path, stdout: "pipe", stderr: "pipe", timeout: 120_000 })
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { code, out, err }
}

/**
 * What the model saw of a tool result. Claude Code hands the model a tool's
 * structured content as JSON when it has some (the text content otherwise),
 * followed by its own system reminder.
 */
function seen(r: ToolResult): { summary: string } & Record<string, unknown> {
  return JSON.parse(r.text.split("\n\n<system-reminder>")[0]!)
}

/** The tool results the model received, in order, from the recorded requests. */
function resultsOf(requests: RecordedRequest[]): ToolResult[] {
  return requests.flatMap((r) => r.conversation?.toolResults ?? [])
}

test("with --plugin-dir plugin/, the model's cca_task, cca_status and cca_agents calls run and their results reach it", async () => {
  const from = model.requests.length
  const r = await runClaude("drive cca", ["--plugin-dir", PLUGIN, "--allowedTools", `${P}cca_task`, `${P}cca_status`, `${P}cca_agents`])
  expect(r.code, r.err).toBe(0)
  expect(JSON.parse(r.out).result).toBe("all three tools answered")
  const results = resultsOf(model.requests.slice(from))
  expect(results.map((x) => [x.name, x.isError])).toEqual([
    [`${P}cca_task`, false],
    [`${P}cca_status`, false],
    [`${P}cca_agents`, false],
  ])
  const task = seen(results[0]!)
  const taskId = task.id as string
  expect(task).toMatchObject({ status: "completed", agentId: "cc-worker", result: "CHANGELOG written for: write the changelog" })
  expect(task.summary).toBe(`Task ${taskId} completed by agent cc-worker; its result follows`)
  expect(seen(results[1]!)).toMatchObject({ task: { id: taskId, status: "completed" } })
  expect(seen(results[2]!)).toMatchObject({ agents: [{ id: "cc-worker", role: "cc-docs" }] })
  expect(seen(results[2]!).summary).toMatch(/^1 agent\(s\): [01] idle, [01] busy/)
  // The daemon really ran it: the worker completed the task the model created.
  expect((await d.api("GET", `/api/v1/tasks/${taskId}`)).body).toMatchObject({ status: "completed", agentId: "cc-worker", description: "write the changelog", source: "api" })
})

test("installed with `cca plugin install`, then with `cca mcp install`, Claude Code starts the server by itself", async () => {
  const installed = await cli(["plugin", "install"], { env })
  expect(installed.code, installed.stderr).toBe(0)
  let from = model.requests.length
  const viaPlugin = await runClaude("installed plugin", ["--allowedTools", `${P}cca_agents`])
  expect(viaPlugin.code, viaPlugin.err).toBe(0)
  const [agents] = resultsOf(model.requests.slice(from))
  expect([agents!.name, agents!.isError]).toEqual([`${P}cca_agents`, false])
  expect(seen(agents!)).toMatchObject({ agents: [{ id: "cc-worker", role: "cc-docs" }] })

  // Registered as a user MCP server too (same command): Claude Code keeps that one and drops the plugin's duplicate.
  const registered = await cli(["mcp", "install"], { env })
  expect(registered.code, registered.stderr).toBe(0)
  from = model.requests.length
  const viaConfig = await runClaude("installed server", ["--allowedTools", "mcp__cca__cca_workloads"])
  expect(viaConfig.code, viaConfig.err).toBe(0)
  const [workloads] = resultsOf(model.requests.slice(from))
  expect([workloads!.name, workloads!.isError]).toEqual(["mcp__cca__cca_workloads", false])
  expect(seen(workloads!)).toMatchObject({ roles: { "cc-docs": { agents: 1 } } })

  // The plugin's /cca:agents still works with no --allowedTools: its allowed-tools name the kept server's tools too.
  from = model.requests.length
  const viaCommand = await runClaude("/cca:agents", [])
  expect(viaCommand.code, viaCommand.err).toBe(0)
  const [listed] = resultsOf(model.requests.slice(from))
  expect([listed!.name, listed!.isError]).toEqual(["mcp__cca__cca_agents", false])
  expect(seen(listed!)).toMatchObject({ agents: [{ id: "cc-worker", role: "cc-docs" }] })
})

test("a pool agent's own `cca mcp --agent ID` (its --mcp-config) delegates over ACP and gets the child's result", async () => {
  const agent = await startAgent({
    id: "cc-agent",
    role: "coordinator",
    cwd: d.tmp.path,
    stateDir: join(d.tmp.path, "agent-state"),
    claudePath: CLAUDE,
    model: SONNET,
    env: { ...claudeEnv(model), CCA_DAEMON_URL: d.http, CCA_API_KEY: d.key },
    mcpServers: { cca: ccaMcpServer("cc-agent", [binary("cca")]) },
  })
  try {
    const from = model.requests.length
    const turn = await agent.send("split the docs work").done
    expect(turn.text).toBe("done")
    expect(turn.permissionDenials).toEqual([])
    const [delegated] = resultsOf(model.requests.slice(from))
    expect([delegated!.name, delegated!.isError]).toEqual(["mcp__cca__cca_delegate", false])
    const answer = seen(delegated!) as { summary: string; taskId: string; result: { status: string; output: string } }
    expect(answer.result).toMatchObject({ status: "completed", output: "CHANGELOG written for: document the API" })
    expect(answer.summary).toBe(`Delegated task ${answer.taskId} completed; its result follows`)
    expect((await d.api("GET", `/api/v1/tasks/${answer.taskId}`)).body).toMatchObject({ status: "completed", agentId: "cc-worker", source: "delegation", metadata: { delegatedBy: "cc-agent" } })
  } finally {
    await agent.stop()
  }
})
