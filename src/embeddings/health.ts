import type { EmbedderHealth } from "./types"

// The health every provider reports: unused until its first call, then ok or
// down with the last failure, and when that last changed.

type Base = Pick<EmbedderHealth, "provider" | "model" | "dimensions" | "kind">

export class HealthTracker {
  private state: EmbedderHealth["state"] = "unused"
  private since = new Date().toISOString()
  private error: string | undefined
  private lastLatencyMs: number | undefined
  private loadMs: number | undefined

  constructor(
    private readonly base: Base,
    private readonly extra: () => Partial<EmbedderHealth> = () => ({}),
  ) {}

  ok(latencyMs: number): void {
    if (this.state !== "ok") this.since = new Date().toISOString()
    this.state = "ok"
    this.error = undefined
    this.lastLatencyMs = latencyMs
  }

  down(error: string): void {
    if (this.state !== "down") this.since = new Date().toISOString()
    this.state = "down"
    this.error = error
  }

  loaded(ms: number): void {
    this.loadMs = ms
  }

  health(): EmbedderHealth {
    return {
      state: this.state,
      ...this.base,
      since: this.since,
      ...(this.error === undefined ? {} : { error: this.error }),
      ...(this.lastLatencyMs === undefined ? {} : { lastLatencyMs: this.lastLatencyMs }),
      ...(this.loadMs === undefined ? {} : { loadMs: this.loadMs }),
      ...this.extra(),
    }
  }
}

/** Texts cut to `max` characters (a model run's cost grows with its input). */
export function clip(texts: readonly string[], max: number): string[] {
  return texts.map((t) => (t.length > max ? t.slice(0, max) : t))
}

/** Slices of at most `size`. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
