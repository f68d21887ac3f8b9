import { isBridge } from "../acp/bridge"
import { eventJson, type TaskEventJson } from "../orchestrator/events"
import type { PoolEvent } from "../pool/types"
import { usageSince, type UsageTotals } from "../store/usage"
import type { DaemonContext } from "./context"
import { eventStream, sseFrame } from "./event-stream"
import { healthReport, probes, statusReport, type Probes } from "./routes/system"

// The dashboard's live overview: one hub per daemon, however many pages
// watch. It listens to every task event (the orchestrator's bus, so tasks of
// other daemons on the same Redis too) and to the pool, forwards them to each
// stream, and recomputes the overview (agents by role and state, queue,
// tokens and cost today, each dependency's health) when something changed,
// at most once per `minIntervalMs`, sending it only when it differs. A slow
// tick catches what sends no event (a dependency going down, a remote
// agent's heartbeat). The page never polls.
//
// A stream that reconnects with Last-Event-ID (a task event id) first gets
// the task events it missed from the store; past `REPLAY_MAX` it gets
// `reset` instead, and reloads what it shows.

const REPLAY_MAX = 500

export type RoleCounts = { total: number; idle: number; busy: number; starting: number; waiting: number; unhealthy: number; degraded: boolean }

export type Overview = {
  daemon: { id: string; version: string; startedAt: string; http: string; acp: string }
  tasks: Record<string, number>
  agents: { total: number; idle: number; busy: number; unhealthy: number }
  roles: Record<string, RoleCounts>
  pool: { agents: number; max: number }
  tokensToday: UsageTotals & { since: string }
  health: { status: string; checks: Record<string, { state: string; detail?: string }> }
  router: string
}

type Frame = { text: string; id?: number }
/** `replayed`: ids sent from the store, so the same event arriving live is not sent twice. Live events are never dropped for being older: events of different tasks may commit out of id order. */
type Client = { write(text: string): void; replaying: boolean; buffered: Frame[]; replayed: Set<number> }

function deliver(c: Client, f: Frame): void {
  if (f.id !== undefined && c.replayed.has(f.id)) return
  c.write(f.text)
}

function midnight(now: number): Date {
  const d = new Date(now)
  d.setHours(0, 0, 0, 0)
  return d
}

export class OverviewHub {
  private clients = new Set<Client>()
  private offs: (() => void)[] = []
  private current: { json: string; value: Overview } | undefined
  private computing: Promise<Overview> | undefined
  private dirty = true
  private timer: ReturnType<typeof setTimeout> | undefined
  private tick: ReturnType<typeof setInterval> | undefined
  private lastComputed = 0
  private readonly p: Probes

  constructor(
    private readonly ctx: DaemonContext,
    private readonly opts: { minIntervalMs?: number; tickMs?: number; now?: () => number } = {},
  ) {
    this.p = probes(ctx)
  }

  private get now() {
    return (this.opts.now ?? Date.now)()
  }

  /** The overview now (shared by concurrent callers). */
  async snapshot(): Promise<Overview> {
    // Without a stream nothing marks it dirty: GET /api/v1/overview then computes afresh (sharing a computation in flight).
    if (this.current && !this.dirty && this.offs.length > 0) return this.current.value
    return (this.computing ??= this.compute().finally(() => (this.computing = undefined)))
  }

  private async compute(): Promise<Overview> {
    this.dirty = false
    this.lastComputed = this.now
    const ctx = this.ctx
    const [status, health, usage] = await Promise.all([statusReport(ctx, this.p), healthReport(ctx, this.p), usageSince(ctx.store.sql, midnight(this.now))])
    const roles: Record<string, RoleCounts> = {}
    const role = (r: string) => (roles[r] ??= { total: 0, idle: 0, busy: 0, starting: 0, waiting: 0, unhealthy: 0, degraded: false })
    for (const a of ctx.pool.list()) {
      const c = role(a.role)
      c.total++
      if (a.status === "idle") c.idle++
      else if (a.status === "busy") c.busy++
      else if (a.status === "waiting") c.waiting++
      else if (a.status === "starting") c.starting++
      else c.unhealthy++
    }
    for (const a of ctx.acp.agents()) {
      if (isBridge(a) || ctx.pool.get(a.agentId)) continue
      const c = role(a.role)
      c.total++
      if (!a.connected || a.health !== "healthy") c.unhealthy++
      else if (a.taskIds.length > 0) c.busy++
      else c.idle++
    }
    for (const r of ctx.pool.roles()) if (r.state === "degraded") role(r.role).degraded = true
    const checks: Overview["health"]["checks"] = {}
    for (const [name, c] of Object.entries(health.checks as Record<string, { state: string; error?: string; detail?: string; engine?: string; backend?: string }>)) {
      const detail = c.error ?? c.detail ?? c.engine ?? c.backend
      checks[name] = detail ? { state: c.state, detail } : { state: c.state }
    }
    const { countedAt: _, ...tasks } = status.tasks
    const value: Overview = {
      daemon: { id: status.daemon.id, version: status.daemon.version, startedAt: status.daemon.startedAt, http: status.daemon.http, acp: status.daemon.acp },
      tasks,
      agents: { total: status.agents.total, idle: status.agents.idle, busy: status.agents.busy, unhealthy: status.agents.total - status.agents.healthy },
      roles,
      pool: { agents: status.pool.agents, max: status.pool.max },
      tokensToday: { ...usage, since: midnight(this.now).toISOString() },
      health: { status: health.status, checks },
      router: status.router,
    }
    const json = JSON.stringify(value)
    if (json !== this.current?.json) {
      this.current = { json, value }
      this.broadcast(sseFrame("overview", value))
    }
    return value
  }

  private broadcast(text: string, id?: number): void {
    const f: Frame = id === undefined ? { text } : { text, id }
    for (const c of this.clients) {
      if (c.replaying) c.buffered.length < 10_000 && c.buffered.push(f)
      else deliver(c, f)
    }
  }

  /** Something changed: recompute soon, at most once per minIntervalMs. */
  private changed(): void {
    this.dirty = true
    if (this.timer || this.clients.size === 0) return
    const wait = Math.max(50, (this.opts.minIntervalMs ?? 1000) - (this.now - this.lastComputed))
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.snapshot().catch(() => {})
    }, wait)
  }

  private listen(): void {
    if (this.offs.length) return
    this.offs.push(
      this.ctx.orchestrator.bus.on("*", (e: TaskEventJson) => {
        this.broadcast(sseFrame("task", e, e.id), e.id)
        this.changed()
      }),
      this.ctx.pool.on("*", (e: PoolEvent) => {
        this.broadcast(sseFrame("agent", e))
        this.changed()
      }),
    )
    this.tick = setInterval(() => this.changed(), this.opts.tickMs ?? 5000)
  }

  private unlisten(): void {
    for (const off of this.offs) off()
    this.offs = []
    clearInterval(this.tick)
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** GET /api/v1/events: hello, the task events missed since `afterId`, the overview, then everything live. */
  stream(afterId: number | undefined, signal: AbortSignal, opts: { keepaliveMs?: number } = {}): Response {
    return eventStream(signal, async (send, _end, write) => {
      const client: Client = { write, replaying: true, buffered: [], replayed: new Set() }
      this.clients.add(client)
      this.listen()
      const off = () => {
        this.clients.delete(client)
        if (this.clients.size === 0) this.unlisten()
      }
      try {
        send("hello", { daemonId: this.ctx.daemonId, version: this.ctx.version, startedAt: this.ctx.startedAt.toISOString() })
        if (afterId !== undefined) {
          const missed = await this.ctx.store.events.listAll({ afterId, limit: REPLAY_MAX })
          if (missed.length >= REPLAY_MAX) send("reset", { reason: `more than ${REPLAY_MAX} task events were missed` })
          for (const e of missed) {
            client.replayed.add(e.id)
            send("task", eventJson(e), e.id)
          }
        } else {
          // The id to resume from: a reconnect (after a daemon restart, say) replays what happened meanwhile.
          const [latest] = await this.ctx.store.events.recent(1)
          send("position", { lastEventId: latest?.id ?? 0 }, latest?.id ?? 0)
        }
        send("overview", await this.snapshot())
        client.replaying = false
        for (const f of client.buffered.splice(0)) deliver(client, f)
        return off
      } catch (e) {
        off()
        throw e
      }
    }, opts)
  }

  close(): void {
    this.clients.clear()
    this.unlisten()
  }
}

