import type { ConsolaInstance, LogObject } from "consola/core"
import * as flag from "./flag"
import { paths } from "./paths"
import { dirname } from "./posix-path"

// Logs go to stderr (warnings and up, unless verbose) and to a log file (info
// and up). stdout belongs to command output and, in `mcp` mode, the protocol.
// Start-up cost matters here (every command loads this): `consola/core`, not
// full consola (~15 ms less), and only when a logger is first made (~0.4 ms);
// Bun.inspect, not node:util (~3 ms); node:fs only once something is actually
// written to the file.

// consola's numeric levels (lower is more severe).
const LogLevels = { silent: -Infinity, fatal: 0, error: 0, warn: 1, log: 2, info: 3, success: 3, debug: 4, trace: 5, verbose: Infinity } as const

export type Logger = ConsolaInstance

const secrets = new Set<string>()

/** Every later log line has this value masked. Call it for tokens and API keys. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value)
}

export function redact(text: string): string {
  let out = text
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join("****")
  return out
}

// Log files: one per process kind (cli.log for commands, daemon.log, mcp.log
// for the MCP servers Claude Code and pool agents start, worker.log), shared
// by every process of that kind. Problem: Bun's FileSink truncates on open, so
// each process wiped the lines of the one before (the "details are in the
// log" pointer led to an overwritten file). Fix: an O_APPEND descriptor and
// one write(2) per line (lines of concurrent processes interleave whole), and
// rotation by size: once the file holds CCA_LOG_MAX_BYTES (default 10 MiB),
// the process that notices renames it to .1 (.1 to .2, up to .3) and opens a
// new one. A process still writing to a file another one rotated sees its
// descriptor's file past the size and reopens the path instead of rotating
// again, and a lock file lets one process rotate at a time, so no line is
// lost and no rotation repeats.

export type LogKind = "cli" | "daemon" | "mcp" | "worker"
let processKind: LogKind = "cli"

/** Which log file this process writes by default; set once, before the first log line. */
export function setLogKind(kind: LogKind): void {
  processKind = kind
}

/** The log file of this process's kind. */
export function processLogFile(): string {
  return paths.logFile(processKind)
}

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024
const KEEP = 3

function maxBytes(): number {
  const n = Number(flag.logMaxBytes())
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_MAX_BYTES
}

type Sink = { write(line: string): void; flush(): unknown }
const sinks = new Map<string, Sink>()

function fileSink(path: string): Sink {
  const existing = sinks.get(path)
  if (existing) return existing
  const fs = () => require("node:fs") as typeof import("node:fs")
  let fd: number | undefined
  let broken = false
  const open = () => {
    const { mkdirSync, openSync } = fs()
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    fd = openSync(path, "a", 0o600)
  }
  const reopen = () => {
    if (fd !== undefined) fs().closeSync(fd)
    open()
  }
  const rotateIfFull = () => {
    const { fstatSync, statSync } = fs()
    const mine = fstatSync(fd!)
    if (mine.size < maxBytes()) return
    // One rotation at a time across processes (an exclusive lock file): two
    // writers shifting the generations at once would push one off the end.
    if (lockRotation()) {
      try {
        const named = statSync(path, { throwIfNoEntry: false })
        if (named && named.ino === mine.ino && named.dev === mine.dev) shiftGenerations()
      } finally {
        fs().rmSync(`${path}.lock`, { force: true })
      }
    }
    reopen() // rotated by us just now, by another process earlier, or being rotated now
  }
  const lockRotation = (): boolean => {
    const { closeSync, existsSync, openSync, rmSync, statSync } = fs()
    const lock = `${path}.lock`
    try {
      closeSync(openSync(lock, "wx", 0o600))
      return true
    } catch {
      // Held: another process rotates; wait for it (a rename or two) so the reopen finds the new file.
      // One left by a process that died mid-rotation is stale after 10 s.
      const held = statSync(lock, { throwIfNoEntry: false })
      if (held && Date.now() - held.mtimeMs > 10_000) rmSync(lock, { force: true })
      for (let i = 0; i < 100 && existsSync(lock); i++) Bun.sleepSync(1)
      return false
    }
  }
  const shiftGenerations = () => {
    const { renameSync } = fs()
    for (let i = KEEP - 1; i >= 1; i--) {
      try {
        renameSync(`${path}.${i}`, `${path}.${i + 1}`)
      } catch {
        // no such generation yet
      }
    }
    renameSync(path, `${path}.1`)
  }
  const sink: Sink = {
    write(line) {
      if (broken) return
      try {
        if (fd === undefined) open()
        rotateIfFull()
        fs().writeSync(fd!, line)
      } catch {
        broken = true // a read-only home must not take the command down with it
      }
    },
    flush() {
      return undefined // every line is written through at once
    },
  }
  sinks.set(path, sink)
  return sink
}

function format(obj: LogObject): string {
  const parts = obj.args.map((a) => (typeof a === "string" ? a : a instanceof Error ? (a.stack ?? a.message) : Bun.inspect(a, { depth: 4 })))
  return redact(parts.join(" "))
}

function stderrLevel(verbose: boolean): number {
  const named = flag.logLevel()
  if (named && named in LogLevels) return LogLevels[named as keyof typeof LogLevels]
  return verbose ? LogLevels.debug : LogLevels.warn
}

/** `file`: a log file of its own; by default the process kind's (setLogKind), looked up at each line. */
export type LoggerOptions = { file?: string; verbose?: boolean; fileLevel?: number }

export function createLogger(service: string, opts: LoggerOptions = {}): Logger {
  const file = opts.file
  const toStderr = stderrLevel(opts.verbose ?? false)
  const toFile = opts.fileLevel ?? LogLevels.info
  const { createConsola } = require("consola/core") as typeof import("consola/core")
  return createConsola({
    level: Math.max(toStderr, toFile),
    defaults: { tag: service },
    reporters: [
      {
        log(obj) {
          const text = format(obj)
          if (obj.level <= toStderr) console.error(`${obj.type === "log" ? "" : `${obj.type}: `}${text}`)
          if (obj.level <= toFile) fileSink(file ?? processLogFile()).write(`${obj.date.toISOString()} ${obj.type} [${obj.tag}] ${text}\n`)
        },
      },
    ],
  })
}

let cliLogger: Logger | undefined
/** The logger of the running CLI command; the daemon makes its own. */
export function log(): Logger {
  cliLogger ??= createLogger("cli")
  return cliLogger
}

export function setVerbose(verbose: boolean): void {
  cliLogger = createLogger("cli", { verbose })
}

export async function flushLogs(): Promise<void> {
  await Promise.all([...sinks.values()].map((s) => s.flush()))
}
