// The clock ACP's timers run on: heartbeats, missed-heartbeat sweeps, request
// timeouts and reconnect backoff. Injected so tests move time forward with
// `ManualClock.advance` instead of sleeping.

export type Timer = { cancel(): void }

export type Clock = {
  now(): number
  setTimeout(fn: () => void, ms: number): Timer
  setInterval(fn: () => void, ms: number): Timer
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms)
    return { cancel: () => clearTimeout(t) }
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms)
    return { cancel: () => clearInterval(t) }
  },
}

type Scheduled = { at: number; seq: number; fn: () => void; every?: number; cancelled: boolean }

/** Time moves only when `advance` is called; due timers run in order, synchronously. */
export class ManualClock implements Clock {
  private time: number
  private seq = 0
  private timers: Scheduled[] = []

  constructor(start = 0) {
    this.time = start
  }

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.schedule(fn, ms)
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.schedule(fn, ms, Math.max(1, ms))
  }

  /** Delays (from now) of the timers still pending, soonest first. */
  pending(): number[] {
    return this.live()
      .map((t) => t.at - this.time)
      .sort((a, b) => a - b)
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      const next = this.live().sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (!next || next.at > end) break
      this.time = next.at
      if (next.every) next.at += next.every
      else next.cancelled = true
      next.fn()
    }
    this.time = end
    this.timers = this.live()
  }

  private live(): Scheduled[] {
    return this.timers.filter((t) => !t.cancelled)
  }

  private schedule(fn: () => void, ms: number, every?: number): Timer {
    const timer: Scheduled = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, every, cancelled: false }
    this.timers.push(timer)
    return {
      cancel: () => {
        timer.cancelled = true
      },
    }
  }
}
