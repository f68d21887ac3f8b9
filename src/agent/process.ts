// Where an agent's claude process runs, behind one small interface: on this
// host (Bun.spawn, bun-pty), or inside a governed container (src/sandbox/
// agent-container.ts, given by the pool when agents.sandbox = "docker"). The
// drivers speak to a ChildProcess (stream: stdin/stdout/stderr) or a
// TerminalProcess (pty) and never know which one they have.

export type ExitInfo = { code: number | null; signal: string | null }

/** What a driver asks to run: the command line, its whole environment, its directory. */
export type SpawnSpec = { argv: string[]; env: Record<string, string>; cwd: string }

export interface ChildProcess {
  readonly pid: number | undefined
  write(data: string): void
  /** Closes stdin (claude -p then finishes its turn and exits). */
  end(): void
  readonly stdout: AsyncIterable<Uint8Array>
  readonly stderr: AsyncIterable<Uint8Array>
  /** Settles once the process is gone (and whatever held it is cleaned up). */
  readonly exited: Promise<ExitInfo>
  kill(signal: "SIGTERM" | "SIGKILL"): void
}

export interface TerminalProcess {
  readonly pid: number | undefined
  onData(listener: (data: string) => void): void
  onExit(listener: (e: ExitInfo) => void): void
  write(data: string): void
  resize(cols: number, rows: number): void
  kill(signal: "SIGTERM" | "SIGKILL"): void
}

export interface ProcessHost {
  /** For messages: "this host", "container cca-agent-...". */
  readonly where: string
  /**
   * The claude command inside the host. Set: used as is (no PATH lookup on
   * this machine). Unset: agents.claude_path looked up on this host's PATH.
   */
  readonly claude?: string
  /** false: the host passes only the agent's own variables, never this process's environment. */
  readonly inheritEnv: boolean
  /**
   * false: MCP servers come from the host's managed MCP config (Claude Code
   * refuses --mcp-config and --strict-mcp-config next to one).
   */
  readonly mcpFlags: boolean
  spawn(spec: SpawnSpec): Promise<ChildProcess>
  spawnTerminal(spec: SpawnSpec, size: { cols: number; rows: number; name: string }): Promise<TerminalProcess>
}

const signalName = (s: unknown) => (s == null ? null : String(s))

/**
 * Problem: after a SIGKILL of the daemon its `claude` agents kept running
 * (orphans holding API sessions and files).
 * Fix: on Linux every agent starts under `setpriv --pdeathsig SIGKILL` (util-linux),
 * which sets the parent-death signal and then execs the agent (same pid), so
 * the kernel kills it the moment the daemon dies, however it died. Without
 * setpriv the argv is unchanged (the daemon's shutdown still stops its agents).
 */
let setpriv: string | null | undefined
export function withParentDeathSignal(argv: readonly string[]): string[] {
  if (process.platform !== "linux") return [...argv]
  setpriv ??= Bun.which("setpriv") ?? null
  return setpriv ? [setpriv, "--pdeathsig", "SIGKILL", "--", ...argv] : [...argv]
}

/** This machine: Bun.spawn for the stream driver, bun-pty (loaded on first use) for the pty driver. */
export const localHost: ProcessHost = {
  where: "this host",
  inheritEnv: true,
  mcpFlags: true,
  async spawn(spec) {
    const proc = Bun.spawn(withParentDeathSignal(spec.argv), { cwd: spec.cwd, env: spec.env, stdin: "pipe", stdout: "pipe", stderr: "pipe" })
    const exited = proc.exited.then((code) => {
      const signal = signalName(proc.signalCode)
      return { code: signal === null ? code : null, signal }
    })
    return {
      pid: proc.pid,
      write(data) {
        proc.stdin.write(data)
        proc.stdin.flush()
      },
      end: () => void proc.stdin.end(),
      stdout: proc.stdout,
      stderr: proc.stderr,
      exited,
      kill: (signal) => proc.kill(signal),
    }
  },
  async spawnTerminal(spec, size) {
    const { spawn } = await import("bun-pty")
    const [file, ...args] = withParentDeathSignal(spec.argv)
    const term = spawn(file!, args, { name: size.name, cols: size.cols, rows: size.rows, cwd: spec.cwd, env: spec.env })
    return {
      pid: term.pid,
      onData: (l) => void term.onData(l),
      onExit: (l) => void term.onExit((e) => l({ code: e.exitCode, signal: e.signal === undefined ? null : String(e.signal) })),
      write: (d) => term.write(d),
      resize: (c, r) => term.resize(c, r),
      kill: (s) => term.kill(s),
    }
  },
}
