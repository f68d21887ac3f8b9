// A value that many requests read but that is costly to compute (a COUNT over
// tasks, a store round trip): at most one computation runs at a time, and its
// result serves every caller for `maxAgeMs`. A status page polled by a hundred
// dashboards then costs the database one query per interval, not a hundred.

export type Cached<T> = {
  get(): Promise<{ value: T; at: number }>
  /** The value while it is fresh, without waiting; undefined when it needs computing. */
  peek(): { value: T; at: number } | undefined
}

export function cached<T>(compute: () => Promise<T>, maxAgeMs: number, now: () => number = Date.now): Cached<T> {
  let last: { value: T; at: number } | undefined
  let inflight: Promise<{ value: T; at: number }> | undefined
  return {
    peek() {
      return last && now() - last.at < maxAgeMs ? last : undefined
    },
    get() {
      if (last && now() - last.at < maxAgeMs) return Promise.resolve(last)
      inflight ??= compute()
        .then((value) => (last = { value, at: now() }))
        .finally(() => (inflight = undefined))
      return inflight
    },
  }
}
