import type { Channel, EventsPath } from "./types"

// Pub/sub across daemons. A published message is delivered to this
// process's subscribers at once and sent out on a wire: Redis when the store
// has it and it answers, else the database (PostgreSQL LISTEN/NOTIFY, when
// the daemon runs on PostgreSQL), else nowhere (one daemon alone).
//
// Problem: while one daemon cannot reach Redis, it publishes on the
// database, but the others, healthy, publish on Redis only: it would hear
// nobody. Fix: every daemon with a database wire always listens on it, and a
// daemon bridges (sends on both wires) while any live daemon of the cluster
// reports that it publishes on the database (cluster.ts sets it from the
// daemons table). A message can then arrive twice: each carries its
// origin and a sequence number, and receivers drop what they have seen and
// what they sent themselves (Redis and NOTIFY both echo to the sender).

/** One way out of this process. */
export type Wire = {
  readonly name: "redis" | "database"
  /** Whether sending may work now. */
  up(): boolean
  send(channel: Channel, text: string): Promise<void>
}

type Envelope = { o: string; n: number; m: unknown }

const isEnvelope = (v: unknown): v is Envelope =>
  typeof v === "object" && v !== null && typeof (v as Envelope).o === "string" && typeof (v as Envelope).n === "number" && "m" in v

const SEEN_MAX = 20_000

export type PubSubLog = { warn(...args: unknown[]): void; debug(...args: unknown[]): void }

export class PubSub {
  /** Who sent a message: unique per process, so a daemon restarted with the same id is not mistaken for itself. */
  readonly origin = crypto.randomUUID()
  private seq = 0
  private seen = new Set<string>()
  private older = new Set<string>()
  private bridging = false
  private fallback: Wire | undefined

  constructor(
    private readonly deliver: (channel: Channel, message: unknown) => void,
    private readonly log: PubSubLog,
    private readonly primary?: Wire,
  ) {}

  /** The database wire, once the store offers one. */
  setFallback(wire: Wire | undefined): void {
    this.fallback = wire
  }

  /** Send on the database wire as well as on Redis (some daemon of the cluster publishes on the database now). */
  bridge(on: boolean): void {
    this.bridging = on
  }

  get bridged(): boolean {
    return this.bridging
  }

  /** Where this daemon's messages go now. */
  path(): EventsPath {
    if (this.primary?.up()) return "redis"
    if (this.fallback?.up()) return "database"
    return "local"
  }

  async publish(channel: Channel, message: unknown): Promise<void> {
    const text = JSON.stringify({ o: this.origin, n: ++this.seq, m: message } satisfies Envelope)
    this.deliver(channel, message)
    let sent = false
    if (this.primary?.up()) {
      try {
        await this.primary.send(channel, text)
        sent = true
      } catch (e) {
        this.log.debug(`publishing on ${channel} through Redis failed: ${(e as Error).message}`)
      }
    }
    // The database is tried whenever Redis did not take the message, even if its last send failed:
    // a statement is cheap and the server may be back (its `up` only says where events went last).
    const fallback = this.fallback
    if (fallback && (!sent || this.bridging)) {
      try {
        await fallback.send(channel, text)
      } catch (e) {
        this.log.debug(`publishing on ${channel} through the database failed: ${(e as Error).message}`)
      }
    }
  }

  /** A message that arrived on a wire. */
  receive(channel: Channel, text: string): void {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      this.log.warn(`ignored a non-JSON message on ${channel}`)
      return
    }
    if (!isEnvelope(parsed)) return this.deliver(channel, parsed) // published by something that is not a cca daemon
    if (parsed.o === this.origin) return
    const key = `${parsed.o}:${parsed.n}`
    if (this.seen.has(key) || this.older.has(key)) return
    this.seen.add(key)
    if (this.seen.size >= SEEN_MAX) {
      // Two generations: remembers between SEEN_MAX and 2 x SEEN_MAX messages, bounded.
      this.older = this.seen
      this.seen = new Set()
    }
    this.deliver(channel, parsed.m)
  }
}
