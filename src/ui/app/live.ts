import { api } from "./api"
import { ACTIVITY_LIMIT, getState, setState, type Overview, type TaskEvent } from "./state"

// The page's one live connection: GET /api/v1/events (server-sent events).
// The overview arrives whenever it changes, every task event and pool event
// as it happens; pages subscribe here instead of polling. The browser's own
// reconnect carries Last-Event-ID, so after a daemon restart the stream
// replays the task events that happened meanwhile; when the browser gives up
// (an HTTP error) we check the session, and either go back to sign-in or
// open a new stream after a backoff, resuming from the last event id.

type Fn<T> = (v: T) => void
const taskListeners = new Set<Fn<TaskEvent>>()
const agentListeners = new Set<Fn<Record<string, unknown>>>()
const resetListeners = new Set<Fn<void>>()

let source: EventSource | undefined
let lastId: string | undefined
let retry: ReturnType<typeof setTimeout> | undefined
let backoff = 500
let daemonStarted = ""

export function onTaskEvent(fn: Fn<TaskEvent>): () => void {
  taskListeners.add(fn)
  return () => void taskListeners.delete(fn)
}

export function onAgentEvent(fn: Fn<Record<string, unknown>>): () => void {
  agentListeners.add(fn)
  return () => void agentListeners.delete(fn)
}

/** Too much was missed (or the daemon restarted): pages reload what they show. */
export function onReset(fn: Fn<void>): () => void {
  resetListeners.add(fn)
  return () => void resetListeners.delete(fn)
}

function parse<T>(e: MessageEvent): T | undefined {
  try {
    return JSON.parse(e.data as string) as T
  } catch {
    return undefined
  }
}

export function connectLive(): void {
  disconnectLive()
  const url = lastId ? `/api/v1/events?after=${encodeURIComponent(lastId)}` : "/api/v1/events"
  const es = new EventSource(url)
  source = es
  setState({ connection: getState().overview ? "reconnecting" : "connecting" })
  const track = (e: MessageEvent) => {
    if (e.lastEventId) lastId = e.lastEventId
  }
  es.addEventListener("hello", (e) => {
    const hello = parse<{ startedAt: string }>(e as MessageEvent)
    backoff = 500
    setState({ connection: "live" })
    // A new daemon process: what pages hold may be stale beyond the replayed events.
    if (hello && daemonStarted && hello.startedAt !== daemonStarted) for (const fn of resetListeners) fn()
    if (hello) daemonStarted = hello.startedAt
  })
  es.addEventListener("position", (e) => track(e as MessageEvent))
  es.addEventListener("overview", (e) => {
    const o = parse<Overview>(e as MessageEvent)
    if (o) setState({ overview: o, connection: "live" })
  })
  es.addEventListener("task", (e) => {
    track(e as MessageEvent)
    const ev = parse<TaskEvent>(e as MessageEvent)
    if (!ev) return
    const activity = [ev, ...getState().activity]
    if (activity.length > ACTIVITY_LIMIT) activity.length = ACTIVITY_LIMIT
    setState({ activity })
    for (const fn of taskListeners) fn(ev)
  })
  es.addEventListener("agent", (e) => {
    const ev = parse<Record<string, unknown>>(e as MessageEvent)
    if (ev) for (const fn of agentListeners) fn(ev)
  })
  es.addEventListener("reset", () => {
    for (const fn of resetListeners) fn()
  })
  es.onerror = () => {
    if (source !== es) return
    setState({ connection: "reconnecting" })
    if (es.readyState !== EventSource.CLOSED) return // the browser retries by itself
    es.close()
    source = undefined
    retry = setTimeout(async () => {
      try {
        await api("GET", "/api/v1/session") // a 401 signs out (api.ts); anything else: try again
        connectLive()
      } catch {
        if (getState().auth === "signed-in") {
          backoff = Math.min(backoff * 2, 10_000)
          connectLive()
        }
      }
    }, backoff)
  }
}

export function disconnectLive(): void {
  clearTimeout(retry)
  source?.close()
  source = undefined
}
