import { AcpClient } from "../acp/client"
import { BRIDGE_CAPABILITY, bridgeId } from "../acp/bridge"
import type { BroadcastParams, DelegateParams, DelegateResult, TaskProgressParams } from "../acp/protocol"
import { CancelledError, NotFoundError } from "../errors"
import * as flag from "../flag"
import type { Logger } from "../log"
import { VERSION } from "../version"
import type { DaemonLink } from "./daemon"

// `cca mcp --agent ID`: the agent's link to the daemon over ACP, as the
// agent's bridge (src/acp/bridge.ts). It connects on first use, not at
// start-up, so an agent that never delegates costs the daemon nothing, and a
// daemon that is down at start-up is no failure; a dropped link is opened
// again by the next call. The ACP URL comes from CCA_ACP_URL, else from the
// daemon's own status report (it knows the port it bound, even port 0).

export type AgentLinkOptions = {
  agentId: string
  role: string
  daemon: DaemonLink
  log: Logger
  /** Connect and request timeout. */
  timeoutMs: number
}

type Status = { daemon: { acp: string } }

/** Resolve with `p`, or reject with a CancelledError once `signal` aborts (the ACP request itself goes on). */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p
  if (signal.aborted) return Promise.reject(new CancelledError("the call was cancelled"))
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CancelledError("the call was cancelled"))
    signal.addEventListener("abort", onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort))
  })
}

export class AgentLink {
  readonly agentId: string
  private client: Promise<AcpClient> | undefined

  constructor(private readonly opts: AgentLinkOptions) {
    this.agentId = opts.agentId
  }

  private async open(signal?: AbortSignal): Promise<AcpClient> {
    const { daemon, timeoutMs, log } = this.opts
    const url = flag.ccaAcpUrl() ?? (await daemon.call<Status>("GET", "/api/v1/status", { signal })).daemon.acp
    const apiKey = (await daemon.client()).apiKey ?? ""
    const client = new AcpClient({
      url,
      apiKey,
      agent: { agentId: bridgeId(this.agentId), role: this.opts.role, capabilities: [BRIDGE_CAPABILITY], version: VERSION },
      reconnect: false,
      connectTimeoutMs: timeoutMs,
      requestTimeoutMs: timeoutMs,
      log,
      handlers: {
        broadcast: (n) => log.info(`broadcast from ${n.from}: ${n.message.slice(0, 200)}`),
        closed: (e) => e && log.warn(`ACP link of agent ${this.agentId} closed: ${e.message}`),
      },
    })
    await client.connect()
    log.info(`agent ${this.agentId}: connected to ACP at ${url} as ${bridgeId(this.agentId)}`)
    return client
  }

  /** The registered ACP client, connecting (again) when there is none. */
  async acp(signal?: AbortSignal): Promise<AcpClient> {
    const current = this.client && (await this.client.catch(() => undefined))
    if (current && current.state === "ready") return current
    const opening = this.open(signal)
    this.client = opening
    opening.catch(() => {
      if (this.client === opening) this.client = undefined
    })
    return abortable(opening, signal)
  }

  /** The task this agent runs now, as the daemon's task list says. */
  async currentTask(signal?: AbortSignal): Promise<string | undefined> {
    const { items } = await this.opts.daemon.call<{ items: { id: string }[] }>("GET", "/api/v1/tasks", { query: { agentId: this.agentId, status: "running", limit: 1 }, signal })
    return items[0]?.id
  }

  async taskOrCurrent(taskId: string | undefined, signal?: AbortSignal): Promise<string> {
    const id = taskId ?? (await this.currentTask(signal))
    if (!id) throw new NotFoundError(`agent ${this.agentId} runs no task right now`, { hint: "pass task_id: the id of the task you are working on" })
    return id
  }

  async broadcast(p: BroadcastParams, signal?: AbortSignal): Promise<{ recipients: number }> {
    const acp = await this.acp(signal)
    return abortable(acp.broadcast(p), signal)
  }

  async progress(p: TaskProgressParams, signal?: AbortSignal): Promise<void> {
    const acp = await this.acp(signal)
    acp.progress(p)
  }

  /** A child task; with `wait`, the request lasts until the child ends (or `waitMs` passes). */
  async delegate(p: DelegateParams, waitMs: number, signal?: AbortSignal): Promise<DelegateResult> {
    const acp = await this.acp(signal)
    const timeoutMs = p.wait ? waitMs + this.opts.timeoutMs : this.opts.timeoutMs
    return abortable(acp.delegate({ ...p, timeoutMs: p.wait ? waitMs : undefined }, { timeoutMs }), signal)
  }

  async close(): Promise<void> {
    const client = this.client && (await this.client.catch(() => undefined))
    this.client = undefined
    await client?.close()
  }
}
