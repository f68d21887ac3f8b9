import { MemoryState, type Clock } from "./memory"
import type { StateLog } from "./redis"
import type { StateStore } from "./types"

// Opening the state store: in-process unless redis.url is set. ioredis loads
// only when it is.

export type StateOptions = {
  /** redis.url; unset: in-process. */
  redisUrl?: string
  log?: StateLog
  now?: Clock
}

/**
 * The state store for this daemon. With Redis unreachable at start it still
 * opens, degraded (health().state === "degraded"), and recovers when Redis answers.
 */
export async function openState(opts: StateOptions = {}): Promise<StateStore> {
  if (!opts.redisUrl) return new MemoryState({ now: opts.now })
  const { openRedisState } = await import("./redis")
  return openRedisState({ url: opts.redisUrl, log: opts.log, now: opts.now })
}
