import { connect, type DaemonClient, type SseEvent } from "../daemon/client"
import { CancelledError, isAppError } from "../errors"

// How the MCP tools reach the daemon: the CLI's HTTP client (src/daemon/client.ts)
// with two things a long-lived stdio server needs on top.
// - Every call ends: the MCP call's AbortSignal (notifications/cancelled)
//   goes through to fetch, and a daemon that accepts the connection but does
//   not answer runs into `timeoutMs` (for event streams: until the headers,
//   then the client's idle time without an event or keepalive).
// - Where the daemon is gets resolved again after a failed connection, so a
//   daemon started (or restarted on another port) after Claude Code started
//   this server is found without restarting it.

export type Query = Record<string, string | number | undefined>

export type DaemonLink = {
  client(): Promise<DaemonClient>
  call<T>(method: "GET" | "POST", path: string, opts?: { body?: unknown; query?: Query; signal?: AbortSignal }): Promise<T>
  /** Server-sent events of `path` until the daemon ends the stream or `signal` aborts. */
  events(path: string, opts?: { signal?: AbortSignal; lastEventId?: string }): AsyncGenerator<SseEvent>
}

export type DaemonLinkOptions = {
  /** Longest wait for the daemon's answer (event streams: for its headers). */
  timeoutMs: number
  /** Where the daemon is; default: CCA_DAEMON_URL / CCA_API_KEY, cca.toml, the local daemon's run dir. */
  connect?: (opts: { timeoutMs: number }) => Promise<DaemonClient>
}

/** The call was cancelled by the MCP client: say so instead of what fetch reports. */
function cancelled(signal: AbortSignal | undefined, e: unknown): unknown {
  return signal?.aborted ? new CancelledError("the call was cancelled", { cause: e }) : e
}

/** Connection-level failures (no daemon, timeout): resolve the daemon's address again next time. */
const unreachable = (e: unknown) => isAppError(e) && e.code === "missing_prerequisite"

export function daemonLink(opts: DaemonLinkOptions): DaemonLink {
  const open = opts.connect ?? connect
  let resolved: Promise<DaemonClient> | undefined

  const client = () => (resolved ??= open({ timeoutMs: opts.timeoutMs }).catch((e: unknown) => {
    resolved = undefined
    throw e
  }))

  async function guarded<T>(signal: AbortSignal | undefined, fn: (c: DaemonClient) => Promise<T>): Promise<T> {
    if (signal?.aborted) throw cancelled(signal, signal.reason)
    const c = await client()
    try {
      return await fn(c)
    } catch (e) {
      if (!signal?.aborted && unreachable(e)) resolved = undefined
      throw cancelled(signal, e)
    }
  }

  return {
    client,
    call(method, path, { body, query, signal } = {}) {
      return guarded(signal, (c) => {
        const timeout = AbortSignal.timeout(opts.timeoutMs)
        return c.json(method, path, { body: method === "POST" ? (body ?? {}) : undefined, query, signal: signal ? AbortSignal.any([signal, timeout]) : timeout })
      })
    },
    async *events(path, { signal, lastEventId } = {}) {
      if (signal?.aborted) throw cancelled(signal, signal.reason)
      const c = await client()
      try {
        // The client's own stream: `timeoutMs` for the headers, then at most its idle time of silence
        // (the daemon's keepalives count) before StreamIdleError, so a half-open connection cannot hang a wait.
        yield* c.events(path, { signal, lastEventId })
      } catch (e) {
        if (!signal?.aborted && unreachable(e)) resolved = undefined
        throw cancelled(signal, e)
      }
    },
  }
}
