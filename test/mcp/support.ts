import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { mkdirSync } from "node:fs"
import { AcpClient, type AcpClientHandlers } from "../../src/acp/client"
import { createKey, homeEnv as e2eHome, startDaemonProcess } from "../e2e/daemon-process"
import { binary } from "../support/cli"
import { tmpdir, type TmpDir } from "../support/tmpdir"

// The pieces the MCP tests run for real: the compiled daemon (`cca daemon
// --port 0 --acp-port 0`, started as the e2e tests start it) with its own
// HOME, data dir and API key; the compiled `cca mcp` driven by the SDK's
// client over stdio; and agents that speak ACP with the acp client library,
// taking task_assign and answering task_result the way a worker does.

/** HOME and XDG dirs under `root` (created): what every process of one setup shares. */
export function homeEnv(root: string): Record<string, string> {
  const env = e2eHome(root)
  mkdirSync(env.XDG_STATE_HOME!, { recursive: true })
  return env
}

/** The environment of child processes: PATH plus what the test sets, nothing else of the test runner's. */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1", ...extra }
}

export type Daemon = {
  http: string
  acp: string
  key: string
  /** HOME + XDG of the daemon: give it to a `cca mcp` that should find the daemon by itself. */
  home: Record<string, string>
  tmp: TmpDir
  stderr(): string
  /** An agent connected over ACP with the daemon's key. */
  agent(agentId: string, role: string, handlers?: AcpClientHandlers): Promise<AcpClient>
  /** GET/POST on the daemon's API with its key. */
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>
  [Symbol.asyncDispose](): Promise<void>
}

/** `env` adds settings (CCA__SECTION__KEY) to the daemon's environment. */
export async function startDaemon(opts: { env?: Record<string, string> } = {}): Promise<Daemon> {
  const tmp = await tmpdir({ prefix: "cca-mcp-daemon-" })
  const home = homeEnv(tmp.path)
  const key = await createKey(home)
  const daemon = await startDaemonProcess({ ...home, ...opts.env })
  const ready = daemon.ready
  const clients: AcpClient[] = []
  return {
    http: ready.http,
    acp: ready.acp,
    key,
    home,
    tmp,
    stderr: daemon.stderr,
    async agent(agentId, role, handlers) {
      const c = new AcpClient({ url: ready.acp, apiKey: key, agent: { agentId, role }, handlers, reconnect: false })
      await c.connect()
      clients.push(c)
      return c
    },
    async api(method, path, body) {
      const res = await fetch(ready.http + path, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return { status: res.status, body: (await res.json()) as never }
    },
    async [Symbol.asyncDispose]() {
      for (const c of clients) await c.close().catch(() => {})
      daemon.proc.kill("SIGTERM")
      const exited = await Promise.race([daemon.exited, Bun.sleep(15_000).then(() => null)])
      if (exited === null) daemon.proc.kill("SIGKILL")
      await tmp[Symbol.asyncDispose]()
    },
  }
}

export type McpSession = {
  client: Client
  transport: StdioClientTransport
  stderr(): string
  call(name: string, args?: Record<string, unknown>, opts?: { signal?: AbortSignal; onprogress?: (p: { progress: number; message?: string }) => void }): Promise<CallToolResult>
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** `cca mcp ARGS` from the compiled binary, connected with the SDK's client over stdio. */
export async function startMcp(args: string[], env: Record<string, string>, cwd?: string): Promise<McpSession> {
  const transport = new StdioClientTransport({ command: binary("cca"), args: ["mcp", ...args], env: childEnv(env), cwd, stderr: "pipe" })
  let stderr = ""
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const client = new Client({ name: "cca-mcp-test", version: "1.0.0" })
  await client.connect(transport)
  const close = () => client.close()
  return {
    client,
    transport,
    stderr: () => stderr,
    call: (name, a = {}, opts = {}) => client.callTool({ name, arguments: a }, undefined, { signal: opts.signal, onprogress: opts.onprogress, timeout: 60_000 }) as Promise<CallToolResult>,
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** The text of a tool result's content. */
export function text(r: CallToolResult): string {
  return r.content.map((c) => (c.type === "text" ? c.text : "")).join("")
}

/** Env for a `cca mcp` that talks to `d` by URL and key (as a user's Claude Code would give it). */
export function daemonEnv(d: Daemon, extra: Record<string, string> = {}): Record<string, string> {
  return { ...d.home, CCA_DAEMON_URL: d.http, CCA_API_KEY: d.key, ...extra }
}

/** Resolves with the first event of `type` of task `id` on the daemon's SSE stream. */
export async function taskEvent(d: Daemon, id: string, type: string, timeoutMs = 15_000): Promise<{ id: number; type: string; data: Record<string, unknown> }> {
  const ctl = new AbortController()
  const timer = setTimeout(() => ctl.abort(), timeoutMs)
  try {
    const res = await fetch(`${d.http}/api/v1/tasks/${id}/events`, { headers: { authorization: `Bearer ${d.key}`, accept: "text/event-stream" }, signal: ctl.signal })
    const decoder = new TextDecoder()
    let buf = ""
    for await (const chunk of res.body!) {
      buf += decoder.decode(chunk, { stream: true })
      for (const m of buf.matchAll(/^data: (.*)$/gm)) {
        const e = JSON.parse(m[1]!)
        if (e.type === type) return e
      }
    }
    throw new Error(`task ${id} ended without a ${type} event`)
  } catch (e) {
    if (ctl.signal.aborted) throw new Error(`no ${type} event of task ${id} within ${timeoutMs} ms`)
    throw e
  } finally {
    clearTimeout(timer)
    ctl.abort()
  }
}
