import * as v from "valibot"
import { join } from "node:path"
import { AcpClient, type AcpClientHandlers } from "../../src/acp/client"
import { generateKey } from "../../src/config/keys"
import { CcaConfig } from "../../src/config/schema"
import { createLogger } from "../../src/log"
import type { PoolOptions } from "../../src/pool/options"
import { startDaemon, type DaemonOptions, type RunningDaemon } from "../../src/daemon/server"
import type { TaskEventJson } from "../../src/orchestrator/events"
import { tmpdir, type TmpDir } from "../support/tmpdir"

// A real daemon in this process (PGlite in a temp dir, in-process state, ACP
// on a free port) whose HTTP app is driven through `handle` with no port.

type Sections = { [K in keyof CcaConfig]?: Partial<CcaConfig[K]> }

export type TestDaemon = {
  daemon: RunningDaemon
  key: string
  keyId: string
  tmp: TmpDir
  /** A request through the app; `key: null` sends none. */
  req(method: string, path: string, opts?: { body?: unknown; headers?: Record<string, string>; key?: string | null; ip?: string }): Promise<Response>
  json<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; res: Response }>
  agent(agentId: string, role: string, handlers?: AcpClientHandlers): Promise<AcpClient>
  [Symbol.asyncDispose](): Promise<void>
}

export type TestDaemonOptions = Pick<DaemonOptions, "taskClock" | "clusterClock" | "pool" | "stages" | "endHooks">

export async function testDaemon(sections: Sections = {}, opts: TestDaemonOptions = {}): Promise<TestDaemon> {
  const tmp = await tmpdir({ prefix: "cca-daemon-test-" })
  const { key, hash, id } = generateKey()
  const config = v.parse(CcaConfig, {
    ...sections,
    // each test daemon its own owner id: they share one HOME (and so one daemon-id file)
    daemon: { http_port: 0, acp_port: 0, api_keys: [hash], id: `test-${id}`, ...sections.daemon },
    postgres: { data_dir: join(tmp.path, "pg"), ...sections.postgres },
    // memory's loop off unless a test turns it on, so other tests' prompts and tasks stay as they were
    memory: { enabled: false, ...sections.memory },
    // any role accepted unless a test says otherwise: tests queue tasks for agents that connect later
    tasks: { roles: ["*"], ...sections.tasks },
  })
  const log = createLogger("test-daemon", { file: join(tmp.path, "daemon.log") })
  // No local agents unless the test asks for them: otherwise the dispatcher would
  // spawn a real `claude` (found on bun run's PATH) for every pending task.
  const noPool = sections.agents === undefined && opts.pool === undefined ? { maxAgents: 0 } : {}
  const daemon = await startDaemon({ config, lock: false, log, taskClock: opts.taskClock, clusterClock: opts.clusterClock, stages: opts.stages, endHooks: opts.endHooks, pool: { stateRoot: join(tmp.path, "agents"), workspace: tmp.path, ...noPool, ...opts.pool } })
  const clients: AcpClient[] = []
  const req: TestDaemon["req"] = (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers }
    const k = opts.key === undefined ? key : opts.key
    if (k !== null) headers.authorization = `Bearer ${k}`
    let body: string | undefined
    if (opts.body !== undefined) {
      body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body)
      headers["content-type"] ??= "application/json"
      headers["content-length"] ??= String(Buffer.byteLength(body)) // as a client on the wire sends it
    }
    return Promise.resolve(daemon.app.handle(new Request(`http://localhost${path}`, { method, headers, body }), opts.ip ?? "127.0.0.1"))
  }
  return {
    daemon,
    key,
    keyId: id,
    tmp,
    req,
    async json(method, path, body) {
      const res = await req(method, path, { body })
      const text = await res.text()
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        throw new Error(`${method} ${path}: ${res.status} not JSON: ${text.slice(0, 200)}`)
      }
      return { status: res.status, body: parsed as any, res }
    },
    async agent(agentId, role, handlers) {
      const c = new AcpClient({ url: daemon.acp, apiKey: key, agent: { agentId, role }, handlers, reconnect: false })
      await c.connect()
      clients.push(c)
      return c
    },
    async [Symbol.asyncDispose]() {
      for (const c of clients) await c.close().catch(() => {})
      await daemon.stop("test done")
      await tmp[Symbol.asyncDispose]()
    },
  }
}

/** The next event of `type` for a task, from the daemon's event bus (or the store, if it already happened). */
export function taskEvent(t: TestDaemon, taskId: string, type: string, timeoutMs = 10_000): Promise<TaskEventJson> {
  const o = t.daemon.ctx.orchestrator
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`no ${type} event for task ${taskId} within ${timeoutMs} ms`))
    }, timeoutMs)
    const off = o.bus.on(taskId, (e) => {
      if (e.type !== type) return
      clearTimeout(timer)
      off()
      resolve(e)
    })
  })
}

/** A promise and its resolve, for waiting on a callback. */
export function signal<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}
