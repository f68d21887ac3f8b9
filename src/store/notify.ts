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

export type NotifyLinkOf = {
  listen(onPayload: (payload: string) => void, onListening?: () => void): Promise<{ close(): Promise<void> }>
  notify(payload: string): Promise<void>
}

export function notifyLink(sql: Sql, onError: (e: unknown) => void = () => {}): NotifyLinkOf | undefined {
  const listen = sql.listen?.bind(sql)
  if (!listen) return undefined
  let big = 0
  return {
    async listen(onPayload, onListening) {
      const unlisten = await listen(
        NOTIFY_CHANNEL,
        (payload) => {
          if (!payload.startsWith(REF)) return onPayload(payload)
          sql
            .query<{ payload: string }>("SELECT payload FROM bus_messages WHERE id = $1", [Number(payload.slice(REF.length))])
            .then(([row]) => row && onPayload(row.payload), onError)
        },
        onListening,
      )
      return { close: unlisten }
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
