import type { AgentState } from "./types"

// Encoding helpers of the Redis state store (redis.ts).

export const HEARTBEAT_LUA = `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'hb', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`

/** host:port of a Redis URL, without credentials. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port || 6379}`
  } catch {
    return "(unparseable URL)"
  }
}

/** A reply error is Redis refusing a command (a bug of ours); anything else is the connection. */
export const isReplyError = (e: unknown) => e instanceof Error && e.name === "ReplyError"

export type Stored = { json: string | null; hb: string | null }

export function parseAgent(s: Stored): AgentState | undefined {
  if (!s.json) return undefined
  const state = JSON.parse(s.json) as AgentState
  return { ...state, lastHeartbeatAt: Number(s.hb ?? state.lastHeartbeatAt) }
}

export function safePassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined
  } catch {
    return undefined
  }
}
