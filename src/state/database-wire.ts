import { MemoryState, type MemoryStateOptions } from "./memory"
import { PubSub, type PubSubLog, type Wire } from "./pubsub"
import type { Channel, StateHealth } from "./types"

// The database as a pub/sub wire: PostgreSQL LISTEN/NOTIFY on one
// notification channel, each payload `<cca channel>\n<message>`. The store
// provides the link (NOTIFY payloads are limited to 8000 bytes: it sends
// bigger ones by reference, see store/notify.ts). It is how task events cross
// daemons when there is no Redis, or while Redis is away.

/** What the store offers: LISTEN with automatic re-listen after a reconnect, and NOTIFY. */
export type NotifyLink = {
  listen(onPayload: (payload: string) => void, onListening?: () => void): Promise<{ close(): Promise<void> }>
  notify(payload: string): Promise<void>
}

export type DatabaseWire = Wire & { close(): Promise<void> }

export async function databaseWire(link: NotifyLink, receive: (channel: Channel, text: string) => void, log: PubSubLog): Promise<DatabaseWire> {
  let up = true
  const listener = await link.listen(
    (payload) => {
      const nl = payload.indexOf("\n")
      if (nl <= 0) return log.debug("ignored a notification without a channel")
      receive(payload.slice(0, nl) as Channel, payload.slice(nl + 1))
    },
    () => (up = true), // listening again after a reconnect
  )
  return {
    name: "database",
    up: () => up,
    async send(channel, text) {
      const payload = `${channel}\n${text}`
      try {
        await link.notify(payload).catch(() => link.notify(payload)) // once more: the first statement after a server restart meets a dead connection
        up = true
      } catch (e) {
        up = false
        throw e
      }
    },
    close: () => listener.close(),
  }
}

/**
 * The in-process state store with its pub/sub on the database: one daemon's
 * agents and sessions stay local (without Redis nobody shares them), but task
 * events and broadcasts reach every daemon on the same PostgreSQL.
 */
export class DatabaseBusState extends MemoryState {
  private readonly bus: PubSub
  private wire: DatabaseWire | undefined

  constructor(opts: MemoryStateOptions & { log: PubSubLog }) {
    super(opts)
    this.bus = new PubSub((channel, message) => this.deliver(channel, message), opts.log)
  }

  async attach(link: NotifyLink, log: PubSubLog): Promise<void> {
    this.wire = await databaseWire(link, (c, t) => this.bus.receive(c, t), log)
    this.bus.setFallback(this.wire)
  }

  override health(): StateHealth {
    return { ...super.health(), events: this.bus.path() }
  }

  override async publish(channel: Channel, message: unknown): Promise<void> {
    await this.bus.publish(channel, message)
  }

  override async close(): Promise<void> {
    await this.wire?.close().catch(() => {})
    await super.close()
  }
}
