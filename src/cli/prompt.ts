// Line prompts for interactive commands (setup, start's branch prompt).
// Questions go to stderr so stdout stays command output; answers are read
// line by line from stdin, which also lets tests drive the prompts through a
// pipe.
//
// Problem: a prompt that takes a reader of `Bun.stdin.stream()` (piped
// through a decoder) keeps that stream locked for good, and `process.stdin`
// reads the same stream, so the interactive session that follows `start`'s
// branch prompt failed with "ReadableStream is locked". Fix: read through
// `process.stdin`, paused between answers, and on close give back what was
// read past the last answer (`unshift`), so whoever reads stdin next gets
// every byte the user typed.

export type Prompter = {
  /** The trimmed answer, `fallback` for an empty one, undefined at end of input. */
  ask(question: string, fallback?: string): Promise<string | undefined>
  close(): void
}

export function prompter(input: NodeJS.ReadStream = process.stdin): Prompter {
  let buffered: Buffer = Buffer.alloc(0)
  let ended = false
  let wake: (() => void) | undefined
  const onData = (chunk: Buffer | string) => {
    buffered = Buffer.concat([buffered, typeof chunk === "string" ? Buffer.from(chunk) : chunk])
    wake?.()
  }
  const onEnd = () => {
    ended = true
    wake?.()
  }
  input.on("data", onData)
  input.on("end", onEnd)
  input.pause()

  async function line(): Promise<string | undefined> {
    for (;;) {
      const nl = buffered.indexOf(10)
      if (nl !== -1) {
        const out = buffered.subarray(0, nl).toString("utf8")
        buffered = buffered.subarray(nl + 1)
        return out.replace(/\r$/, "")
      }
      if (ended) {
        if (buffered.length === 0) return undefined
        const out = buffered.toString("utf8")
        buffered = Buffer.alloc(0)
        return out
      }
      await new Promise<void>((resolve) => {
        wake = resolve
        input.resume()
      })
      wake = undefined
      input.pause()
    }
  }

  return {
    async ask(question, fallback) {
      await Bun.write(Bun.stderr, `${question}${fallback ? ` [${fallback}]` : ""}: `)
      const answer = await line()
      if (answer === undefined) return undefined
      const trimmed = answer.trim()
      return trimmed === "" ? fallback ?? "" : trimmed
    },
    close() {
      input.off("data", onData)
      input.off("end", onEnd)
      input.pause()
      if (buffered.length > 0 && !ended) input.unshift(buffered)
      buffered = Buffer.alloc(0)
    },
  }
}
