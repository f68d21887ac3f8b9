import type { Sql } from "./sql"

// LISTEN/NOTIFY for pub/sub across daemons when there is no Redis (or while
// it is away): src/state/database-wire.ts sends and receives through this.
// PostgreSQL only (PGlite is one process: nobody to notify).
//
// Problem: a NOTIFY payload holds at most 8000 bytes; a task event with a
// large progress payload is bigger. Fix: a bigger message goes into
// bus_messages (0007) and the notification carries `@ref:<id>`; receivers
// read the row. Rows older than ten minutes are pruned as new ones come.

export const NOTIFY_CHANNEL = "cca_bus"
const MAX_PAYLOAD = 7900
const REF = "@ref:"
const PING = "@ping:"

export type NotifyLinkOf = {
  listen(onPayload: (payload: string) => void, onListening?: () => void): Promise<{ close(): Promise<void> }>
  notify(payload: string): Promise<void>
}

export type NotifyOptions = {
  onError?: (e: unknown) => void
  /** How often the listener checks it still hears (a NOTIFY to itself). Default 2 s. */
  pingMs?: number
}

export function notifyLink(sql: Sql, opts: NotifyOptions = {}): NotifyLinkOf | undefined {
  const listen = sql.listen?.bind(sql)
  if (!listen) return undefined
  const onError = opts.onError ?? (() => {})
  const pingMs = opts.pingMs ?? 2000
  let big = 0
  return {
    /**
     * Problem: postgres.js listens again by itself after its connection
     * closes, but gives up for good if that one attempt fails (the server
     * still restarting), and says nothing. Fix: the listener NOTIFYs itself
     * every pingMs; a ping sent and not heard within an interval means the
     * listener is gone, and it listens anew.
     */
    async listen(onPayload, onListening) {
      const ping = `${PING}${crypto.randomUUID()}`
      let heardAt = Date.now()
      let unlisten: (() => Promise<void>) | undefined
      const handler = (payload: string) => {
        if (payload.startsWith(PING)) {
          if (payload === ping) heardAt = Date.now()
          return
        }
        if (!payload.startsWith(REF)) return onPayload(payload)
        sql
          .query<{ payload: string }>("SELECT payload FROM bus_messages WHERE id = $1", [Number(payload.slice(REF.length))])
          .then(([row]) => row && onPayload(row.payload), onError)
      }
      unlisten = await listen(NOTIFY_CHANNEL, handler, onListening)
      let renewing = false
      let sentAt = 0
      const timer = setInterval(() => {
        if (renewing) return
        // A ping that went out a whole interval ago and was not heard: the listener is gone.
        if (sentAt > heardAt && Date.now() - sentAt > pingMs) {
          renewing = true
          void (async () => {
            await unlisten?.().catch(() => {})
            unlisten = await listen(NOTIFY_CHANNEL, handler, onListening)
            heardAt = Date.now()
          })()
            .catch(onError)
            .finally(() => (renewing = false))
          return
        }
        const at = Date.now()
        sql.query("SELECT pg_notify($1, $2)", [NOTIFY_CHANNEL, ping]).then(
          () => (sentAt = Math.max(sentAt, at)),
          () => {},
        )
      }, pingMs)
      timer.unref?.()
      return {
        close: async () => {
          clearInterval(timer)
          await unlisten?.()
        },
      }
    },
    async notify(payload) {
      if (Buffer.byteLength(payload) <= MAX_PAYLOAD) {
        await sql.query("SELECT pg_notify($1, $2)", [NOTIFY_CHANNEL, payload])
        return
      }
      const channel = payload.slice(0, Math.max(0, payload.indexOf("\n")))
      const [row] = await sql.query<{ id: number }>("INSERT INTO bus_messages (channel, payload) VALUES ($1, $2) RETURNING id", [channel, payload])
      await sql.query("SELECT pg_notify($1, $2)", [NOTIFY_CHANNEL, `${REF}${row!.id}`])
      if (++big % 100 === 0) await sql.query("DELETE FROM bus_messages WHERE created_at < now() - interval '10 minutes'").catch(onError)
    },
  }
}
