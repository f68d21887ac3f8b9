import { binary } from "./cli"

// Runs the compiled binary in a real pseudo-terminal, as a user's shell would:
// `setsid -c` makes it a session leader with the PTY as its controlling
// terminal, so resizing the PTY delivers SIGWINCH to it.

export type PtyRun = {
  terminal: Bun.Terminal
  proc: Bun.Subprocess
  /** Everything written to the terminal so far. */
  output(): string
  /** Resolves when the output matches, rejects (with the output) after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  [Symbol.asyncDispose](): Promise<void>
}

/** termios c_lflag bits (Linux). */
export const ICANON = 0o2
export const ECHO = 0o10

export function runInPty(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string; cols?: number; rows?: number } = {}): PtyRun {
  let text = ""
  const waiters = new Set<() => void>()
  const decoder = new TextDecoder()
  const terminal = new Bun.Terminal({
    cols: opts.cols ?? 80,
    rows: opts.rows ?? 24,
    data(_t, data) {
      text += decoder.decode(data, { stream: true })
      for (const w of waiters) w()
    },
  })
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, TERM: "xterm-256color", ...opts.env })) if (v !== undefined) env[k] = v
  const proc = Bun.spawn(["setsid", "-c", binary(), ...args], { terminal, env, cwd: opts.cwd })
  return {
    terminal,
    proc,
    output: () => text,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = text.match(pattern)
          if (!m) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(m)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`timed out waiting for ${pattern}; terminal output so far:\n${text}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
    async [Symbol.asyncDispose]() {
      if (proc.exitCode === null) proc.kill("SIGKILL")
      await proc.exited
      terminal.close()
    },
  }
}
