// The last `capacity` characters of a terminal's output, kept as the chunks
// they arrived in, so a late viewer can be shown the screen's recent past.
// Memory stays bounded however long the agent runs.

export class RingBuffer {
  private chunks: string[] = []
  private length = 0

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError("RingBuffer capacity must be positive")
  }

  push(data: string): void {
    if (data.length >= this.capacity) {
      this.chunks = [data.slice(data.length - this.capacity)]
      this.length = this.capacity
      return
    }
    this.chunks.push(data)
    this.length += data.length
    while (this.length > this.capacity) {
      const head = this.chunks[0]!
      const excess = this.length - this.capacity
      if (head.length <= excess) {
        this.chunks.shift()
        this.length -= head.length
      } else {
        this.chunks[0] = head.slice(excess)
        this.length -= excess
      }
    }
  }

  get size(): number {
    return this.length
  }

  /** Everything kept, oldest first. */
  snapshot(): string {
    if (this.chunks.length > 1) this.chunks = [this.chunks.join("")]
    return this.chunks[0] ?? ""
  }

  /** The last `n` characters. */
  tail(n: number): string {
    const all = this.snapshot()
    return all.slice(Math.max(0, all.length - n))
  }
}
