import type { Redis as RedisClient } from "ioredis"
import { log as cliLog, registerSecret } from "../log"
import { MemoryState, type Clock } from "./memory"
import {
  DEFAULT_AGENT_TTL_MS,
  Keys,
  type AgentState,
  type AgentStateInput,
  type Channel,
  type MessageHandler,
  type StateHealth,
  type StateStore,
  type Unsubscribe,
} from "./types"
import { databaseWire, type DatabaseWire, type NotifyLink } from "./database-wire"
import { PubSub } from "./pubsub"
import { describeRedisUrl, HEARTBEAT_LUA, isReplyError, parseAgent, safePassword } from "./redis-format"

// State shared through Redis, so several daemons see one picture. Redis going
// away must not take the daemon with it:
// - every write also goes to a local MemoryState, and what changed while
//   Redis was away is written back when it returns;
// - while Redis is away (health "degraded"), reads and pub/sub use the local
//   store: this daemon keeps working, other daemons stop seeing it;
// - commands time out instead of hanging, and a probe brings it back.
//
// Agent state is a hash at cca:agent:{id}:state: `json` (the state) and `hb`
// (last heartbeat, ms), so a heartbeat is one atomic HSET + PEXPIRE.

/** Where the store reports Redis going and coming (a consola Logger fits). */
export type StateLog = { warn(...args: unknown[]): void; info(...args: unknown[]): void; debug(...args: unknown[]): void }

export type RedisStateOptions = {
  url: string
  log?: StateLog
  /** How often a degraded store checks whether Redis is back. */
  probeMs?: number
  commandTimeoutMs?: number
  connectTimeoutMs?: number
  /** For the local fallback's expiry. */
  now?: Clock
}

export async function openRedisState(opts: RedisStateOptions): Promise<RedisState> {
  registerSecret(safePassword(opts.url))
  const { Redis } = await import("ioredis")
  const make = () =>
    new Redis(opts.url, {
      lazyConnect: true,
      // Fail at once while disconnected (the local store answers instead) rather than queue without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResubscribe: false, // resubscribed by us, from the local handler set, on every ready
      commandTimeout: opts.commandTimeoutMs ?? 1000,
      connectTimeout: opts.connectTimeoutMs ?? 2000,
      retryStrategy: (times) => Math.min(100 * times, 1000),
    })
  const store = new RedisState(make(), make(), opts)
  await store.start()
  return store
}

export class RedisState implements StateStore {
  readonly backend = "redis" as const
  private readonly local: MemoryState
  private readonly log: StateLog
  private readonly where: string
  private readonly listeners = new Set<(h: StateHealth) => void>()
  private current: Omit<StateHealth, "events">
  private readonly bus: PubSub
  private dbWire: DatabaseWire | undefined
  /** Keys written while degraded ("agent:ID", "session:ID", "queue:ID"), to write back. */
  private readonly dirty = new Set<string>()
  private probe: ReturnType<typeof setInterval> | undefined
  private recovery: Promise<void> | undefined
  private closed = false
  private readonly now: Clock

  constructor(
    private readonly client: RedisClient,
    private readonly sub: RedisClient,
    private readonly opts: RedisStateOptions,
  ) {
    this.now = opts.now ?? Date.now
    this.log = opts.log ?? cliLog()
    this.local = new MemoryState({ now: this.now, onHandlerError: (e, channel) => this.log.warn(`a ${channel} subscriber threw:`, e) })
    this.where = describeRedisUrl(opts.url)
    this.bus = new PubSub((channel, message) => this.local.deliver(channel, message), this.log, {
      name: "redis",
      up: () => this.current.state === "ok",
      send: async (channel, text) => {
        try {
          await this.client.publish(channel, text)
        } catch (e) {
          if (!isReplyError(e)) this.degrade(e)
          throw e
        }
      },
    })
    this.current = { backend: "redis", state: "degraded", detail: "connecting", since: Date.now() }
    for (const c of [client, sub]) {
      c.on("error", (e: Error) => this.log.debug(`redis ${this.where}: ${e.message}`))
      c.on("close", () => this.degrade(new Error("connection closed")))
      c.on("ready", () => void this.tryRecover())
    }
    sub.on("message", (channel: string, text: string) => this.bus.receive(channel as Channel, text))
  }

  async start(): Promise<void> {
    const results = await Promise.allSettled([this.client.connect(), this.sub.connect()])
    const failed = results.find((r) => r.status === "rejected")
    if (failed) this.degrade((failed as PromiseRejectedResult).reason)
    else await this.tryRecover()
  }

  health(): StateHealth {
    return { ...this.current, events: this.bus.path() }
  }

  /** Events through the database while Redis is away (and, bridged, while another daemon's is). */
  async attach(link: NotifyLink): Promise<void> {
    this.dbWire = await databaseWire(link, (c, t) => this.bus.receive(c, t), this.log)
    this.bus.setFallback(this.dbWire)
  }

  bridge(on: boolean): void {
    if (on !== this.bus.bridged) this.log.info(on ? "another daemon publishes events on the database: sending them there too" : "every daemon publishes events on Redis again")
    this.bus.bridge(on)
  }

  onHealth(fn: (h: StateHealth) => void): Unsubscribe {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  private setHealth(state: "ok" | "degraded", detail?: string): void {
    if (this.current.state === state && this.current.detail === detail) return
    const changed = this.current.state !== state
    this.current = { backend: "redis", state, detail, since: changed ? Date.now() : this.current.since }
    if (changed) for (const fn of [...this.listeners]) fn(this.health())
  }

  private degrade(e: unknown): void {
    if (this.closed) return
    const message = e instanceof Error ? e.message : String(e)
    if (this.current.state === "ok" || this.current.detail === "connecting") {
      const events = this.dbWire ? "events go through the database" : "events stay local to this daemon"
      this.log.warn(`Redis at ${this.where} is unreachable (${message}): state stays local and ${events} until it returns`)
    }
    this.setHealth("degraded", message)
    this.probe ??= setInterval(() => void this.tryRecover(), this.opts.probeMs ?? 1000)
    this.probe.unref?.()
  }

  /** When both connections are up and answer: write back what changed meanwhile, resubscribe, then report ok. */
  private tryRecover(): Promise<void> {
    if (this.closed || this.current.state === "ok") return Promise.resolve()
    if (this.client.status !== "ready" || this.sub.status !== "ready") return Promise.resolve()
    this.recovery ??= this.recover().finally(() => (this.recovery = undefined))
    return this.recovery
  }

  private async recover(): Promise<void> {
    try {
      await this.client.ping()
      const channels = this.local.channels()
      if (channels.length > 0) await this.sub.subscribe(...channels)
      // Writes keep landing locally until health flips; flip only once nothing is left to write back.
      while (this.dirty.size > 0) await this.writeBack()
      clearInterval(this.probe)
      this.probe = undefined
      const wasDown = this.current.detail !== "connecting"
      this.setHealth("ok")
      if (wasDown) this.log.info(`Redis at ${this.where} is back; shared state resumed`)
    } catch (e) {
      this.degrade(e)
    }
  }

  private async writeBack(): Promise<void> {
    if (this.dirty.size === 0) return
    // Taken before the snapshot: a key dirtied while this runs goes in the next round.
    const keys = [...this.dirty]
    this.dirty.clear()
    const snap = this.local.snapshot()
    const agents = new Map(snap.agents.map((a) => [a.state.id, a]))
    const sessions = new Map(snap.sessions.map((s) => [s.id, s]))
    const queues = new Map(snap.queues.map((q) => [q.agentId, q.taskIds]))
    const m = this.client.multi()
    for (const key of keys) {
      const [kind, id] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)]
      if (kind === "agent") {
        const a = agents.get(id)
        if (a) this.writeAgent(m, a.state, a.ttlMs)
        else m.del(Keys.agentState(id)).srem(Keys.agentIndex, id)
      } else if (kind === "session") {
        const s = sessions.get(id)
        if (!s) m.del(Keys.session(id))
        else if (s.ttlMs === undefined) m.set(Keys.session(id), JSON.stringify(s.data))
        else m.set(Keys.session(id), JSON.stringify(s.data), "PX", Math.max(1, s.ttlMs))
      } else {
        m.del(Keys.agentTasks(id))
        const q = queues.get(id)
        if (q && q.length > 0) m.rpush(Keys.agentTasks(id), ...q)
      }
    }
    try {
      await m.exec()
    } catch (e) {
      for (const k of keys) this.dirty.add(k)
      throw e
    }
  }

  private writeAgent(m: ReturnType<RedisClient["multi"]>, state: AgentState, ttlMs: number): void {
    const { lastHeartbeatAt, ...rest } = state
    m.hset(Keys.agentState(state.id), "json", JSON.stringify(rest), "hb", String(lastHeartbeatAt))
      .pexpire(Keys.agentState(state.id), Math.max(1, Math.round(ttlMs)))
      .sadd(Keys.agentIndex, state.id)
  }

  /** Run against Redis while healthy; on a connection failure (or while degraded) answer from the local store. */
  private async op<T>(dirtyKey: string | undefined, remote: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    if (this.current.state === "ok") {
      try {
        return await remote()
      } catch (e) {
        if (isReplyError(e)) throw e
        this.degrade(e)
      }
    }
    if (dirtyKey) this.dirty.add(dirtyKey)
    return local()
  }

  async setAgent(input: AgentStateInput, ttlMs = DEFAULT_AGENT_TTL_MS): Promise<AgentState> {
    const state = await this.local.setAgent(input, ttlMs)
    return this.op(
      `agent:${state.id}`,
      async () => {
        const m = this.client.multi()
        this.writeAgent(m, state, ttlMs)
        await m.exec()
        return state
      },
      async () => state,
    )
  }

  async heartbeat(id: string, ttlMs = DEFAULT_AGENT_TTL_MS): Promise<boolean> {
    const local = await this.local.heartbeat(id, ttlMs)
    return this.op(
      `agent:${id}`,
      async () => (await this.client.eval(HEARTBEAT_LUA, 1, Keys.agentState(id), String(this.now()), String(ttlMs))) === 1,
      async () => local,
    )
  }

  async getAgent(id: string): Promise<AgentState | undefined> {
    return this.op(
      undefined,
      async () => {
        const [json, hb] = await this.client.hmget(Keys.agentState(id), "json", "hb")
        return parseAgent({ json: json ?? null, hb: hb ?? null })
      },
      () => this.local.getAgent(id),
    )
  }

  async listAgents(): Promise<AgentState[]> {
    return this.op(
      undefined,
      async () => {
        const ids = (await this.client.smembers(Keys.agentIndex)).sort()
        if (ids.length === 0) return []
        const p = this.client.pipeline()
        for (const id of ids) p.hmget(Keys.agentState(id), "json", "hb")
        const replies = (await p.exec()) ?? []
        const out: AgentState[] = []
        const gone: string[] = []
        replies.forEach(([err, value], i) => {
          if (err) throw err
          const [json, hb] = value as (string | null)[]
          const state = parseAgent({ json: json ?? null, hb: hb ?? null })
          if (state) out.push(state)
          else gone.push(ids[i]!)
        })
        if (gone.length > 0) await this.client.srem(Keys.agentIndex, ...gone) // expired: drop from the index
        return out
      },
      () => this.local.listAgents(),
    )
  }

  async removeAgent(id: string): Promise<void> {
    await this.local.removeAgent(id)
    await this.op(
      `agent:${id}`,
      async () => {
        await this.client.multi().del(Keys.agentState(id)).srem(Keys.agentIndex, id).exec()
      },
      async () => {},
    )
  }

  async setSession(id: string, data: Record<string, unknown>, ttlMs?: number): Promise<void> {
    await this.local.setSession(id, data, ttlMs)
    const json = JSON.stringify(data)
    await this.op(
      `session:${id}`,
      async () => {
        if (ttlMs === undefined) await this.client.set(Keys.session(id), json)
        else await this.client.set(Keys.session(id), json, "PX", ttlMs)
      },
      async () => {},
    )
  }

  async getSession(id: string): Promise<Record<string, unknown> | undefined> {
    return this.op(
      undefined,
      async () => {
        const json = await this.client.get(Keys.session(id))
        return json === null ? undefined : (JSON.parse(json) as Record<string, unknown>)
      },
      () => this.local.getSession(id),
    )
  }

  async deleteSession(id: string): Promise<void> {
    await this.local.deleteSession(id)
    await this.op(`session:${id}`, async () => void (await this.client.del(Keys.session(id))), async () => {})
  }

  async pushTask(agentId: string, taskId: string): Promise<number> {
    const n = await this.local.pushTask(agentId, taskId)
    return this.op(`queue:${agentId}`, () => this.client.rpush(Keys.agentTasks(agentId), taskId), async () => n)
  }

  async popTask(agentId: string): Promise<string | undefined> {
    return this.op(
      `queue:${agentId}`,
      async () => {
        const taskId = (await this.client.lpop(Keys.agentTasks(agentId))) ?? undefined
        if (taskId) await this.local.removeTask(agentId, taskId)
        return taskId
      },
      () => this.local.popTask(agentId),
    )
  }

  async agentTasks(agentId: string): Promise<string[]> {
    return this.op(undefined, () => this.client.lrange(Keys.agentTasks(agentId), 0, -1), () => this.local.agentTasks(agentId))
  }

  async removeTask(agentId: string, taskId: string): Promise<boolean> {
    const local = await this.local.removeTask(agentId, taskId)
    return this.op(`queue:${agentId}`, async () => (await this.client.lrem(Keys.agentTasks(agentId), 1, taskId)) > 0, async () => local)
  }

  async publish(channel: Channel, message: unknown): Promise<void> {
    JSON.stringify(message) // what cannot travel fails here, as on the wire
    await this.bus.publish(channel, message)
  }

  async subscribe(channel: Channel, handler: MessageHandler): Promise<Unsubscribe> {
    const first = !this.local.channels().includes(channel)
    const off = await this.local.subscribe(channel, handler)
    if (first) await this.op(undefined, async () => void (await this.sub.subscribe(channel)), async () => {}) // resubscribed on recovery
    return () => {
      off()
      if (!this.local.channels().includes(channel) && this.current.state === "ok") this.sub.unsubscribe(channel).catch(() => {})
    }
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.probe)
    this.listeners.clear()
    await this.dbWire?.close().catch(() => {})
    await this.local.close()
    for (const c of [this.sub, this.client]) {
      try {
        await c.quit()
      } catch {
        c.disconnect()
      }
    }
  }
}
