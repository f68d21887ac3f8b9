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

type Sink = { write(line: string): void; flush(): unknown }
const sinks = new Map<string, Sink>()

function fileSink(path: string): Sink {
  let existing = sinks.get(path)
  if (existing) return existing
  let writer: ReturnType<ReturnType<typeof Bun.file>["writer"]> | undefined
  let broken = false
  const sink: Sink = {
    write(line) {
      if (broken) return
      try {
        if (!writer) {
          const { closeSync, mkdirSync, openSync } = require("node:fs") as typeof import("node:fs")
          mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
          closeSync(openSync(path, "a", 0o600)) // create with owner-only mode before Bun opens it
          writer = Bun.file(path).writer()
        }
        writer.write(line)
      } catch {
        broken = true // a read-only home must not take the command down with it
      }
    },
    flush() {
      return writer?.flush()
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

export type LoggerOptions = { file?: string; verbose?: boolean; fileLevel?: number }

export function createLogger(service: string, opts: LoggerOptions = {}): Logger {
  const file = opts.file ?? paths.cliLogFile()
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
          if (obj.level <= toFile) fileSink(file).write(`${obj.date.toISOString()} ${obj.type} [${obj.tag}] ${text}\n`)
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
