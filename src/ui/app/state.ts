import { useEffect, useState } from "preact/hooks"

// One small store for what several pages share (who is signed in, the live
// overview, the connection), with a hook that re-renders on change.

export type Overview = {
  daemon: { id: string; version: string; startedAt: string; http: string; acp: string }
  tasks: Record<string, number>
  agents: { total: number; idle: number; busy: number; unhealthy: number }
  roles: Record<string, { total: number; idle: number; busy: number; starting: number; waiting: number; unhealthy: number; degraded: boolean }>
  pool: { agents: number; max: number }
  tokensToday: { tasks: number; inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheCreationTokens: number; costUsd: number; since: string }
  health: { status: string; checks: Record<string, { state: string; detail?: string }> }
  router: string
}

export type TaskEvent = { id: number; taskId: string; type: string; data: Record<string, unknown>; createdAt: string }

export type AppState = {
  auth: "checking" | "signed-out" | "signed-in"
  signInMessage: string
  keyId: string
  expiresAt: string
  overview: Overview | undefined
  connection: "connecting" | "live" | "reconnecting"
  /** The latest task events, newest first; bounded. */
  activity: TaskEvent[]
}

export const ACTIVITY_LIMIT = 100

type Listener = () => void

let state: AppState = { auth: "checking", signInMessage: "", keyId: "", expiresAt: "", overview: undefined, connection: "connecting", activity: [] }
const listeners = new Set<Listener>()

export function getState(): AppState {
  return state
}

export function setState(patch: Partial<AppState>): void {
  state = { ...state, ...patch }
  for (const l of listeners) l()
}

export function useAppState(): AppState {
  const [, force] = useState(0)
  useEffect(() => {
    const l = () => force((n) => n + 1)
    listeners.add(l)
    return () => void listeners.delete(l)
  }, [])
  return state
}
