import { defineCommand, type ArgsDef, type CommandDef, type CommandMeta, type ParsedArgs } from "citty"
import { log, setVerbose, type Logger } from "../log"
import { envelope, writeErr, writeOut } from "../output"
import { mark } from "../trace"
import { checkArgs, type CheckedArgDef } from "./args-check"

// Shared arguments and the per-command context. A command file reads its args,
// calls a domain function and prints through `ctx.emit`; it never decides
// alone between JSON and text, and never prints warnings itself.

export const jsonArg = {
  json: { type: "boolean", description: "Print one JSON envelope on stdout" },
} as const

export const commonArgs = {
  ...jsonArg,
  verbose: { type: "boolean", description: "Log debug output to stderr" },
} as const

export type Ctx = {
  json: boolean
  log: Logger
  warnings: string[]
  /** A warning for the user: stderr in text mode, status.warnings in JSON mode. */
  warn(message: string): void
  /** Print the result: the envelope in JSON mode, `human(data)` otherwise. */
  emit<T>(kind: string, data: T, human: (data: T) => string | undefined): void
  /** Register a teardown; they run in reverse order when the command ends. */
  defer(fn: () => unknown): void
}

export function createCtx(json: boolean): Ctx & { close(): Promise<void> } {
  const warnings: string[] = []
  const teardown: (() => unknown)[] = []
  return {
    json,
    get log() {
      return log()
    },
    warnings,
    warn(message) {
      warnings.push(message)
      if (!json) writeErr(`warning: ${message}`)
    },
    emit(kind, data, human) {
      mark("emit")
      if (json) writeOut(JSON.stringify(envelope(kind, data, { warnings }), null, 2))
      else {
        const text = human(data)
        if (text) writeOut(text)
      }
    },
    defer(fn) {
      teardown.push(fn)
    },
    async close() {
      for (const fn of teardown.reverse()) await fn()
    },
  }
}

type CommonArgs = typeof commonArgs

let commandPath: string | undefined

/** The full name of the command being run (`scc exceptions create`), for messages; set by root.ts. */
export function setCommandPath(path: string): void {
  commandPath = path
}

/**
 * defineCommand with the common args, a context, and ordered teardown. Every
 * command's raw words are checked against its args first (args-check.ts):
 * unknown flags, repeated single values and stray words are usage errors,
 * and `multiple` options arrive as lists. `variadic` takes any number of
 * positional words (read from `args._`).
 */
export function command<const A extends ArgsDef = {}>(def: {
  meta: CommandMeta
  args?: A
  variadic?: boolean
  run: (ctx: Ctx, args: ParsedArgs<A & CommonArgs>) => unknown | Promise<unknown>
}): CommandDef<A & CommonArgs> {
  const allArgs = { ...(def.args ?? {}), ...commonArgs } as A & CommonArgs
  return defineCommand({
    meta: def.meta,
    args: allArgs,
    async run({ args, rawArgs, cmd }) {
      mark(`run ${def.meta.name}`)
      // A command with subcommands (mcp, stats) runs after its subcommand too, which checked its own words.
      const subs = (cmd as { subCommands?: Record<string, unknown> }).subCommands
      const first = rawArgs.find((a) => !a.startsWith("-"))
      if (!(subs && first !== undefined && first in subs)) {
        const { lists } = checkArgs(allArgs as Record<string, CheckedArgDef>, rawArgs, { command: commandPath ?? String(def.meta.name), variadic: def.variadic })
        for (const [name, values] of Object.entries(lists)) (args as Record<string, unknown>)[name] = values
      }
      if (args.verbose) setVerbose(true)
      const ctx = createCtx(Boolean(args.json))
      try {
        await def.run(ctx, args)
      } finally {
        await ctx.close()
        mark("done")
      }
    },
  })
}

/** A group of subcommands, loaded lazily. */
export function group(meta: CommandMeta, subCommands: Record<string, () => Promise<CommandDef<any>>>): CommandDef {
  return defineCommand({ meta, subCommands })
}

/** Lazily import a command module's default export. */
export const lazy =
  <T extends { default: CommandDef<any> }>(load: () => Promise<T>) =>
  () =>
    load().then((m) => m.default)
