import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { paths } from "../paths"
import type { Queryable } from "./sql"

// Who owns a running task. A daemon's id must survive its own restart (so it
// can find the tasks it left running) and differ between daemons sharing one
// PostgreSQL. It is made once and kept in the data directory; config
// (daemon.id) can pin it where the data directory is not kept (containers).
// Two daemons must never share one: each would requeue the other's tasks.

const ID_FILE = "daemon-id"

/** The id kept in `dir` (default the cca data dir), made on first use: `<host>-<8 hex>`. */
export function loadDaemonId(dir: string = paths.ccaDataDir()): string {
  const file = join(dir, ID_FILE)
  const existing = readId(file)
  if (existing) return existing
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const host = hostname().toLowerCase().replace(/[^a-z0-9-]+/g, "-").slice(0, 40) || "host"
  const id = `${host}-${crypto.randomUUID().slice(0, 8)}`
  const tmp = `${file}.${process.pid}`
  writeFileSync(tmp, `${id}\n`, { mode: 0o600 })
  try {
    linkSync(tmp, file) // atomic; if another process won the race, its id is the one
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
  } finally {
    rmSync(tmp, { force: true })
  }
  return readId(file) ?? id
}

function readId(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim() || undefined
  } catch {
    return undefined
  }
}

export type DaemonRecord = {
  id: string
  host: string
  pid: number | null
  version: string | null
  startedAt: Date
  lastSeenAt: Date
  stoppedAt: Date | null
  /** Until when its lease holds; null for a daemon of a build before leases. */
  leaseExpiresAt: Date | null
  httpUrl: string | null
  acpUrl: string | null
  /** How it publishes task events now: redis | database | local. */
  events: string | null
  adoptedBy: string | null
  adoptedAt: Date | null
  /** The lease has run out (by the database's clock) and nobody adopted it yet, or it was adopted. */
  expired: boolean
}

function toDaemon(r: Record<string, unknown>): DaemonRecord {
  const d = (v: unknown) => (v instanceof Date ? v : new Date(String(v)))
  const maybe = (v: unknown) => (v == null ? null : d(v))
  const text = (v: unknown) => (v == null ? null : String(v))
  return {
    id: String(r.id),
    host: String(r.host),
    pid: r.pid == null ? null : Number(r.pid),
    version: text(r.version),
    startedAt: d(r.started_at),
    lastSeenAt: d(r.last_seen_at),
    stoppedAt: maybe(r.stopped_at),
    leaseExpiresAt: maybe(r.lease_expires_at),
    httpUrl: text(r.http_url),
    acpUrl: text(r.acp_url),
    events: text(r.events),
    adoptedBy: text(r.adopted_by),
    adoptedAt: maybe(r.adopted_at),
    expired: r.expired === true,
  }
}

export type DaemonRegistration = {
  id: string
  host?: string
  pid?: number
  version?: string
  /** Lease length; default 10 s. */
  leaseMs?: number
  httpUrl?: string | null
  acpUrl?: string | null
  events?: string | null
}

const SELECT = "SELECT *, (lease_expires_at < now()) IS TRUE AS expired FROM daemons"
const ms = (n: number) => Math.max(1, Math.round(n))

export function daemonRepo(db: Queryable) {
  return {
    /** At start (and after being adopted): record this daemon as running, with a fresh lease. */
    async register(d: DaemonRegistration): Promise<DaemonRecord> {
      const [row] = await db.query(
        `INSERT INTO daemons (id, host, pid, version, lease_expires_at, http_url, acp_url, events)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::float8 / 1000), $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, version = EXCLUDED.version,
           started_at = now(), last_seen_at = now(), stopped_at = NULL, lease_expires_at = EXCLUDED.lease_expires_at,
           http_url = COALESCE(EXCLUDED.http_url, daemons.http_url), acp_url = COALESCE(EXCLUDED.acp_url, daemons.acp_url),
           events = EXCLUDED.events, adopted_by = NULL, adopted_at = NULL
         RETURNING *, false AS expired`,
        [d.id, d.host ?? hostname(), d.pid ?? process.pid, d.version ?? null, ms(d.leaseMs ?? 10_000), d.httpUrl ?? null, d.acpUrl ?? null, d.events ?? null],
      )
      return toDaemon(row!)
    },

    async get(id: string): Promise<DaemonRecord | undefined> {
      const [row] = await db.query(`${SELECT} WHERE id = $1`, [id])
      return row ? toDaemon(row) : undefined
    },

    /**
     * Renew this daemon's lease (and what it reports: addresses, how it
     * publishes events). `held` is false when it can not: another daemon
     * adopted it (its lease had run out), or it was marked stopped.
     * `othersOnDatabase`: another live daemon publishes its events on the
     * database now (its Redis is away), so this one should send there too.
     */
    async renew(id: string, r: { leaseMs: number; events?: string | null; httpUrl?: string | null; acpUrl?: string | null }): Promise<{ held: boolean; othersOnDatabase: boolean }> {
      const [row] = await db.query<{ held: boolean; others: boolean }>(
        `WITH renewed AS (
           UPDATE daemons SET lease_expires_at = now() + make_interval(secs => $2::float8 / 1000), last_seen_at = now(),
             events = COALESCE($3, events), http_url = COALESCE($4, http_url), acp_url = COALESCE($5, acp_url)
           WHERE id = $1 AND adopted_at IS NULL AND stopped_at IS NULL
           RETURNING id)
         SELECT EXISTS (SELECT 1 FROM renewed) AS held,
           EXISTS (SELECT 1 FROM daemons WHERE id <> $1 AND events = 'database' AND stopped_at IS NULL AND adopted_at IS NULL AND lease_expires_at > now()) AS others`,
        [id, ms(r.leaseMs), r.events ?? null, r.httpUrl ?? null, r.acpUrl ?? null],
      )
      return { held: row?.held === true, othersOnDatabase: row?.others === true }
    },

    async touch(id: string): Promise<void> {
      await db.query("UPDATE daemons SET last_seen_at = now() WHERE id = $1", [id])
    },

    /** At clean shutdown (its tasks were requeued by the drain). */
    async stopped(id: string): Promise<void> {
      await db.query("UPDATE daemons SET stopped_at = now(), last_seen_at = now(), lease_expires_at = now() WHERE id = $1", [id])
    },

    /**
     * Mark every daemon whose lease ran out as adopted by `by` and return
     * their ids. One UPDATE: when two daemons adopt at once, each dead daemon
     * goes to exactly one of them (the row lock decides; the loser's WHERE no
     * longer matches). Run it in the transaction that requeues their tasks.
     */
    async adoptExpired(by: string): Promise<string[]> {
      const rows = await db.query<{ id: string }>(
        `UPDATE daemons SET adopted_by = $1, adopted_at = now()
         WHERE id <> $1 AND stopped_at IS NULL AND adopted_at IS NULL AND lease_expires_at < now()
         RETURNING id`,
        [by],
      )
      return rows.map((r) => r.id)
    },

    /** Per daemon: its agents that are up (not stopped, crashed or disconnected), how many are busy, and the tasks it runs. */
    async load(): Promise<Map<string, { agents: number; busyAgents: number; runningTasks: number }>> {
      const [agents, tasks] = await Promise.all([
        db.query<{ d: string; n: number; busy: number }>(
          `SELECT daemon_id AS d, count(*)::int AS n, (count(*) FILTER (WHERE status = 'busy'))::int AS busy FROM agents
           WHERE daemon_id IS NOT NULL AND stopped_at IS NULL AND NOT (status = ANY($1::text[])) GROUP BY daemon_id`,
          [["stopped", "crashed", "disconnected"]],
        ),
        db.query<{ d: string; n: number }>("SELECT owner_daemon AS d, count(*)::int AS n FROM tasks WHERE status = 'running' AND owner_daemon IS NOT NULL GROUP BY owner_daemon"),
      ])
      const out = new Map<string, { agents: number; busyAgents: number; runningTasks: number }>()
      const at = (d: string) => out.get(d) ?? out.set(d, { agents: 0, busyAgents: 0, runningTasks: 0 }).get(d)!
      for (const r of agents) Object.assign(at(r.d), { agents: Number(r.n), busyAgents: Number(r.busy) })
      for (const r of tasks) at(r.d).runningTasks = Number(r.n)
      return out
    },

    /** Daemons, oldest first: all that are not stopped, and stopped or adopted ones seen within `recentMs` (default 1 h). */
    async list(opts: { recentMs?: number } = {}): Promise<DaemonRecord[]> {
      const rows = await db.query(
        `${SELECT} WHERE (stopped_at IS NULL AND adopted_at IS NULL) OR last_seen_at > now() - make_interval(secs => $1::float8 / 1000)
         ORDER BY started_at LIMIT 100`,
        [opts.recentMs ?? 3_600_000],
      )
      return rows.map(toDaemon)
    },
  }
}

export type DaemonRepo = ReturnType<typeof daemonRepo>
