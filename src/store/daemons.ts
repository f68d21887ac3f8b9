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

export type DaemonRecord = { id: string; host: string; pid: number | null; version: string | null; startedAt: Date; lastSeenAt: Date; stoppedAt: Date | null }

function toDaemon(r: Record<string, unknown>): DaemonRecord {
  const d = (v: unknown) => (v instanceof Date ? v : new Date(String(v)))
  return {
    id: String(r.id),
    host: String(r.host),
    pid: r.pid == null ? null : Number(r.pid),
    version: r.version == null ? null : String(r.version),
    startedAt: d(r.started_at),
    lastSeenAt: d(r.last_seen_at),
    stoppedAt: r.stopped_at == null ? null : d(r.stopped_at),
  }
}

export function daemonRepo(db: Queryable) {
  return {
    /** At start: record this daemon as running. */
    async register(d: { id: string; host?: string; pid?: number; version?: string }): Promise<DaemonRecord> {
      const [row] = await db.query(
        `INSERT INTO daemons (id, host, pid, version) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, version = EXCLUDED.version,
           started_at = now(), last_seen_at = now(), stopped_at = NULL
         RETURNING *`,
        [d.id, d.host ?? hostname(), d.pid ?? process.pid, d.version ?? null],
      )
      return toDaemon(row!)
    },
    async touch(id: string): Promise<void> {
      await db.query("UPDATE daemons SET last_seen_at = now() WHERE id = $1", [id])
    },
    /** At clean shutdown. */
    async stopped(id: string): Promise<void> {
      await db.query("UPDATE daemons SET stopped_at = now(), last_seen_at = now() WHERE id = $1", [id])
    },
    async list(): Promise<DaemonRecord[]> {
      return (await db.query("SELECT * FROM daemons ORDER BY started_at")).map(toDaemon)
    },
  }
}

export type DaemonRepo = ReturnType<typeof daemonRepo>
