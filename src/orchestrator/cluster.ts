import { hostname } from "node:os"
import { systemClock, type Clock, type Timer } from "../acp/clock"
import { ConfigError } from "../errors"
import type { Logger } from "../log"
import { processAlive } from "../store/dir-lock"
import type { Store } from "../store/store"
import type { Transition } from "../store/task-types"
import { isTransient } from "../store/sql"

// Many daemons, one database. Each daemon holds a lease in its `daemons` row
// and renews it every renew_s. A daemon whose lease runs out (lease_s
// without a renewal, by the database's clock) is presumed dead: the first
// live daemon to notice adopts it in one transaction (daemons.adoptExpired
// picks each dead daemon for exactly one adopter) and requeues its running
// tasks, or fails those whose attempts are used up. Tasks that were on remote
// workers wait worker_grace_s first, so a worker failing over to another
// daemon reports them there (handover) instead of another agent taking them.
//
// Problem: after a PostgreSQL outage longer than lease_s every lease in the
// table has run out, live daemons included; the first daemon back would
// adopt them all.
// Fix: a daemon adopts only once it has itself held its lease for a whole
// lease_s without a failed renewal, and without a gap of more than half a
// lease between two renewals (a statement that hung through the outage and
// succeeded after it does not count as holding). By then every live daemon
// has renewed (renew_s <= lease_s / 2), so only the dead ones are expired.
//
// A daemon that finds it was adopted (paused, cut off from the database for
// longer than its lease) drops the tasks the adopter requeued (its agents
// are interrupted; what it claimed since stays its own) and joins again with
// a fresh lease.

export type ClusterOptions = {
  store: Store
  owner: string
  log: Logger
  leaseMs: number
  renewMs: number
  workerGraceMs: number
  version?: string
  /** What this daemon reports in its row: its addresses and how it publishes events now. */
  info: () => { httpUrl?: string; acpUrl?: string; events?: string }
  /** Publish the transitions of adopted tasks (on the task event bus) and look for work. */
  adopted: (transitions: Transition[]) => Promise<void>
  /** Another live daemon publishes events on the database now: send there too (pubsub.ts). */
  bridge?: (on: boolean) => void
  /** This daemon was adopted: drop the tasks the adopter requeued (those claimed since stay). */
  fenced: (by: string | null) => Promise<void>
  clock?: Clock
}

export type DaemonView = {
  id: string
  host: string
  pid: number | null
  version: string | null
  http: string | null
  acp: string | null
  /** alive: its lease holds; expired: it ran out (adoption is due); adopted: another daemon took its tasks; stopped: it shut down. */
  state: "alive" | "expired" | "adopted" | "stopped"
  startedAt: string
  lastSeenAt: string
  leaseExpiresAt: string | null
  adoptedBy: string | null
  /** How it publishes events: redis | database | local. */
  events: string | null
  agents: number
  busyAgents: number
  runningTasks: number
  self: boolean
}

export type ClusterView = { self: string; leaseS: number; renewS: number; holdsLease: boolean; daemons: DaemonView[]; adoptions: Adoption[] }

export type Adoption = { daemonId: string; by: string; at: string; requeued: number; failed: number }

/** Refuse to start as a daemon id that a live daemon holds (two daemons with one id would requeue each other's tasks). */
export async function checkDaemonId(store: Store, id: string): Promise<void> {
  const prev = await store.daemons.get(id)
  if (!prev || prev.stoppedAt || prev.adoptedAt || prev.expired || prev.leaseExpiresAt === null) return
  const sameHost = prev.host === hostname()
  // The same host and a dead (or our own) pid: a predecessor that was killed. Take over.
  if (sameHost && (prev.pid === null || prev.pid === process.pid || !processAlive(prev.pid))) return
  throw new ConfigError(`daemon id ${id} is held by a running daemon (host ${prev.host}, pid ${prev.pid ?? "?"}, lease until ${prev.leaseExpiresAt.toISOString()})`, {
    hint: "give each daemon its own daemon.id (or leave it empty: one is made per data directory), or stop the other daemon first",
  })
}

export class Cluster {
  private timer: Timer | null = null
  private stopped = false
  /** Since when the lease has been held without a failed renewal (clock ms); undefined while failing. */
  private heldSince: number | undefined
  private failures = 0
  /** When the last renewal succeeded (clock ms). */
  private lastOk: number | undefined
  private readonly clock: Clock
  private last: Adoption[] = []
  private ticking: Promise<void> | undefined

  constructor(private readonly o: ClusterOptions) {
    this.clock = o.clock ?? systemClock
    if (o.renewMs * 2 > o.leaseMs) {
      throw new ConfigError(`cluster.renew_s (${o.renewMs / 1000}) must be at most half of cluster.lease_s (${o.leaseMs / 1000})`, {
        hint: "a lease must survive one missed renewal: lower cluster.renew_s or raise cluster.lease_s",
      })
    }
  }

  /** Take the lease (at start, after the id check). */
  async join(): Promise<void> {
    const i = this.o.info()
    await this.o.store.daemons.register({ id: this.o.owner, host: hostname(), pid: process.pid, version: this.o.version, leaseMs: this.o.leaseMs, httpUrl: i.httpUrl, acpUrl: i.acpUrl, events: i.events })
    this.heldSince = this.lastOk = this.clock.now()
  }

  /** Renew at once (the row gets this daemon's addresses and event path), then every renew_s. */
  start(): void {
    void this.tick().then(() => this.schedule(this.o.renewMs))
  }

  /** The latest adoptions this daemon made (newest last, up to 20). */
  adoptions(): Adoption[] {
    return [...this.last]
  }

  /** The cluster as the database sees it: every daemon that is up, and those that stopped or were adopted within the hour. */
  async view(): Promise<ClusterView> {
    const [daemons, load] = await Promise.all([this.o.store.daemons.list(), this.o.store.daemons.load()])
    return {
      self: this.o.owner,
      leaseS: this.o.leaseMs / 1000,
      renewS: this.o.renewMs / 1000,
      holdsLease: this.healthy,
      adoptions: this.adoptions(),
      daemons: daemons.map((d) => ({
        id: d.id,
        host: d.host,
        pid: d.pid,
        version: d.version,
        http: d.httpUrl,
        acp: d.acpUrl,
        state: d.stoppedAt ? "stopped" : d.adoptedAt ? "adopted" : d.expired ? "expired" : "alive",
        startedAt: d.startedAt.toISOString(),
        lastSeenAt: d.lastSeenAt.toISOString(),
        leaseExpiresAt: d.leaseExpiresAt?.toISOString() ?? null,
        adoptedBy: d.adoptedBy,
        events: d.events,
        agents: load.get(d.id)?.agents ?? 0,
        busyAgents: load.get(d.id)?.busyAgents ?? 0,
        runningTasks: load.get(d.id)?.runningTasks ?? 0,
        self: d.id === this.o.owner,
      })),
    }
  }

  /** Whether this daemon holds its lease now (false while the database does not answer). */
  get healthy(): boolean {
    return this.heldSince !== undefined
  }

  /** Renew now (after the renewal in flight, if any) and adopt what is due. */
  tick(): Promise<void> {
    const next = (this.ticking ?? Promise.resolve()).then(() => this.renew())
    const mine = next.finally(() => {
      if (this.ticking === mine) this.ticking = undefined
    })
    this.ticking = mine
    return mine
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.timer?.cancel()
    await this.ticking
  }

  private schedule(ms: number): void {
    if (this.stopped) return
    this.timer = this.clock.setTimeout(() => {
      void this.tick().then(() => this.schedule(this.failures === 0 ? this.o.renewMs : this.backoff()))
    }, ms)
  }

  /** After a failed renewal: 250 ms doubling, never longer than renew_s (the lease must not lapse for want of trying). */
  private backoff(): number {
    return Math.min(this.o.renewMs, 250 * 2 ** Math.min(this.failures - 1, 10))
  }

  private async renew(): Promise<void> {
    if (this.stopped) return
    const { store, owner, log } = this.o
    try {
      const i = this.o.info()
      const { held, othersOnDatabase } = await store.daemons.renew(owner, { leaseMs: this.o.leaseMs, events: i.events, httpUrl: i.httpUrl, acpUrl: i.acpUrl })
      if (this.failures > 0) log.info(`the database answers again after ${this.failures} failed lease renewal(s)`)
      this.failures = 0
      this.o.bridge?.(othersOnDatabase)
      if (!held) return await this.rejoin()
      const now = this.clock.now()
      if (this.lastOk === undefined || now - this.lastOk > this.o.leaseMs / 2) this.heldSince = now
      this.lastOk = now
      this.heldSince ??= now
      if (now - this.heldSince >= this.o.leaseMs) await this.adopt()
    } catch (e) {
      this.failures++
      this.heldSince = undefined
      this.lastOk = undefined
      if (this.failures === 1) log.warn(`renewing this daemon's lease failed (${(e as Error).message}); retrying with backoff${isTransient(e) ? "" : " (not a connection error)"}`)
    }
  }

  private async rejoin(): Promise<void> {
    const { store, owner, log } = this.o
    const me = await store.daemons.get(owner)
    log.warn(`this daemon's lease ran out and ${me?.adoptedBy ? `daemon ${me.adoptedBy}` : "another daemon"} adopted its tasks; dropping what it ran and joining again`)
    await this.o.fenced(me?.adoptedBy ?? null)
    await this.join()
  }

  private async adopt(): Promise<void> {
    const { store, owner, log } = this.o
    const taken = await store.transaction(async (r) => {
      const dead = await r.daemons.adoptExpired(owner)
      const out: { id: string; moved: Transition[] }[] = []
      for (const id of dead) {
        const moved = await r.tasks.adoptOrphans(id, { reason: { code: "daemon_lost", message: `daemon ${id} stopped renewing its lease while the task was running` }, remoteDelayMs: this.o.workerGraceMs })
        await r.agents.stopAllOf(id)
        out.push({ id, moved })
      }
      return out
    })
    for (const { id, moved } of taken) {
      const failed = moved.filter((t) => t.task.status === "failed").length
      const a: Adoption = { daemonId: id, by: owner, at: new Date().toISOString(), requeued: moved.length - failed, failed }
      this.last = [...this.last, a].slice(-20)
      log.warn(`daemon ${id} is presumed dead (its lease ran out): adopted ${moved.length} running task(s): ${a.requeued} requeued, ${failed} failed (attempts used up)`)
      await this.o.adopted(moved)
    }
  }
}
