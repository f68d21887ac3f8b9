// Token buckets keyed by API key id or client address. A bucket holds up to
// `burst` tokens and refills at `rate` per second; a request takes one. The
// map is bounded: past `maxEntries`, full buckets (idle clients) are dropped,
// then the oldest, so a flood of distinct addresses cannot grow memory.

type Bucket = { tokens: number; at: number }

export type Take = { ok: true } | { ok: false; retryAfterS: number }
const OK: Take = { ok: true }

export class TokenBuckets {
  private buckets = new Map<string, Bucket>()

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
    private readonly maxEntries = 50_000,
  ) {}

  get enabled(): boolean {
    return this.rate > 0
  }

  get size(): number {
    return this.buckets.size
  }

  /** Take one token for `key`; `now` (ms) may be passed in when the caller already read the clock. */
  take(key: string, now = this.now()): Take {
    if (this.rate <= 0) return OK
    let b = this.buckets.get(key)
    if (!b) {
      if (this.buckets.size >= this.maxEntries) this.evict(now)
      b = { tokens: this.burst, at: now }
      this.buckets.set(key, b)
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate)
      b.at = now
    }
    if (b.tokens >= 1) {
      b.tokens -= 1
      return OK
    }
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / this.rate)) }
  }

  private evict(now: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + ((now - b.at) / 1000) * this.rate >= this.burst) this.buckets.delete(k)
    const excess = this.buckets.size - Math.floor(this.maxEntries * 0.9)
    if (excess <= 0) return
    let n = 0
    for (const k of this.buckets.keys()) {
      if (n++ >= excess) break
      this.buckets.delete(k)
    }
  }
}
