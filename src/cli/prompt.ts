// Line prompts for interactive commands (setup). Questions go to stderr so
// stdout stays command output; answers are read line by line from stdin,
// which also lets tests drive the prompts through a pipe.

export type Prompter = {
  /** The trimmed answer, `fallback` for an empty one, undefined at end of input. */
  ask(question: string, fallback?: string): Promise<string | undefined>
  close(): void
}

export function prompter(): Prompter {
  const reader = Bun.stdin.stream().pipeThrough(new TextDecoderStream()).getReader()
  let buffered = ""
  let done = false

  async function line(): Promise<string | undefined> {
    for (;;) {
      const nl = buffered.indexOf("\n")
      if (nl !== -1) {
        const out = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        return out.replace(/\r$/, "")
      }
      if (done) {
        if (buffered === "") return undefined
        const out = buffered
        buffered = ""
        return out
      }
      const chunk = await reader.read()
      if (chunk.done) done = true
      else buffered += chunk.value
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
      reader.releaseLock()
    },
  }
}
