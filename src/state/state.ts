import { log as cliLog } from "../log"
import { DatabaseBusState, type NotifyLink } from "./database-wire"
import { MemoryState, type Clock } from "./memory"
import type { StateLog } from "./redis"
import type { StateStore } from "./types"

// Opening the state store: in-process unless redis.url is set. ioredis loads
// only when it is. With `notify` (the daemon on PostgreSQL) pub/sub also
// crosses daemons through the database: always without Redis, and while
// Redis is away.

export type StateOptions = {
  /** redis.url; unset: in-process. */
  redisUrl?: string
  log?: StateLog
  now?: Clock
  /** LISTEN/NOTIFY of the store (store/notify.ts), when it runs on PostgreSQL. */
  notify?: NotifyLink
}

/**
 * The state store for this daemon. With Redis unreachable at start it still
 * opens, degraded (health().state === "degraded"), and recovers when Redis answers.
 */
export async function openState(opts: StateOptions = {}): Promise<StateStore> {
  const log = opts.log ?? cliLog()
  if (!opts.redisUrl && !opts.notify) return new MemoryState({ now: opts.now })
  if (!opts.redisUrl) {
    const s = new DatabaseBusState({ now: opts.now, log })
    await s.attach(opts.notify!, log)
    return s
  }
  const { openRedisState } = await import("./redis")
  const s = await openRedisState({ url: opts.redisUrl, log, now: opts.now })
  if (opts.notify) {
    try {
      await s.attach(opts.notify)
    } catch (e) {
      log.warn(`LISTEN on the database failed (${(e as Error).message}): while Redis is away, events stay on this daemon`)
    }
  }
  return s
}
