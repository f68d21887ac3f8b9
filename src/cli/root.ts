import { defineCommand, renderUsage, runCommand, type CommandDef } from "citty"
import { basename } from "../posix-path"
import { lazy, setCommandPath } from "./common"
import { ExitCode, formatError, isAppError } from "../errors"
import * as flag from "../flag"
import { flushLogs, log, processLogFile } from "../log"
import { envelope, writeErr, writeOut } from "../output"
import { VERSION } from "../version"

// The command tree and the one error boundary. One binary, two names. `scc` and `cca` share every subcommand; the name only
// changes what help text and messages call the program.

export type Program = "scc" | "cca"

function programName(): Program {
  const override = flag.programOverride()
  if (override === "scc" || override === "cca") return override
  return basename(process.argv0).startsWith("cca") ? "cca" : "scc"
}

const prog = programName()

export const root = defineCommand({
  meta: {
    name: prog,
    version: VERSION,
    description:
      prog === "cca"
        ? "Claude Code agent pool and orchestration (also answers to scc)"
        : "Governed Claude Code sandboxes (also answers to cca)",
  },
  subCommands: {
    version: lazy(() => import("./version")),
    setup: lazy(() => import("./setup")),
    init: lazy(() => import("./init")),
    config: lazy(() => import("./config")),
    team: lazy(() => import("./team")),
    exceptions: lazy(() => import("./exceptions")),
    unblock: lazy(() => import("./unblock")),
    worktree: lazy(() => import("./worktree")),
    hooks: lazy(() => import("./hooks")),
    list: lazy(() => import("./list")),
    stop: lazy(() => import("./stop")),
    prune: lazy(() => import("./prune")),
    start: lazy(() => import("./start")),
    stats: lazy(() => import("./stats")),
    audit: lazy(() => import("./audit")),
    db: lazy(() => import("./db")),
    daemon: lazy(() => import("./daemon")),
    keys: lazy(() => import("./keys")),
    status: lazy(() => import("./status")),
    task: lazy(() => import("./task")),
    agents: lazy(() => import("./agents")),
    rl: lazy(() => import("./rl")),
    tokens: lazy(() => import("./tokens")),
    memory: lazy(() => import("./memory")),
    index: lazy(() => import("./index")),
    "search-code": lazy(() => import("./search-code")),
    worker: lazy(() => import("./worker")),
    mcp: lazy(() => import("./mcp")),
    plugin: lazy(() => import("./plugin")),
    embeddings: lazy(() => import("./embeddings")),
    ui: lazy(() => import("./ui")),
    completion: lazy(() => import("./completion")),
  },
})

type Chain = { cmd: CommandDef<any>; names: string[] }

/** Walk rawArgs down the subcommand tree, for help text naming the full path. */
async function resolveChain(rawArgs: string[]): Promise<Chain> {
  let cmd: CommandDef<any> = root
  const names: string[] = [prog]
  for (const arg of rawArgs) {
    if (arg.startsWith("-")) continue
    const subs = typeof cmd.subCommands === "function" ? await cmd.subCommands() : await cmd.subCommands
    const next = subs?.[arg]
    if (!next) break
    cmd = typeof next === "function" ? await next() : await next
    names.push(arg)
  }
  return { cmd, names }
}

async function usage(rawArgs: string[]): Promise<string> {
  const { cmd, names } = await resolveChain(rawArgs)
  const meta = typeof cmd.meta === "function" ? await cmd.meta() : await cmd.meta
  const self = { ...cmd, meta: { ...meta, name: names.at(-1) } }
  const parent = names.length > 1 ? { meta: { name: names.slice(0, -1).join(" "), version: VERSION } } : undefined
  const text = await renderUsage(self, parent)
  return process.stdout.isTTY && !flag.noColor() ? text : text.replace(/\x1b\[[0-9;]*m/g, "")
}

function printFailure(json: boolean, error: { code: string; message: string; hint?: string }, text: string): void {
  if (json) writeOut(JSON.stringify(envelope("Error", null, { errors: [error] }), null, 2))
  writeErr(text)
}

async function main(rawArgs: string[]): Promise<number> {
  const json = rawArgs.includes("--json")
  if (rawArgs.includes("--help") || rawArgs.includes("-h")) {
    writeOut(await usage(rawArgs))
    return ExitCode.ok
  }
  if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
    writeOut(VERSION)
    return ExitCode.ok
  }
  if (rawArgs.length === 0) {
    writeOut(await usage(rawArgs))
    return ExitCode.ok
  }
  try {
    setCommandPath((await resolveChain(rawArgs)).names.join(" "))
    await runCommand(root, { rawArgs })
    return Number(process.exitCode ?? 0)
  } catch (e) {
    if (isAppError(e)) {
      printFailure(json, e.toJSON(), `error: ${formatError(e)}`)
      return e.exitCode
    }
    if (e instanceof Error && e.name === "CLIError") {
      // citty's own parse errors: unknown command, missing argument, bad enum.
      const { names } = await resolveChain(rawArgs)
      const message = e.message.replace(/\x1b\[[0-9;]*m/g, "")
      const hint = `${names.join(" ")} --help`
      printFailure(json, { code: "usage", message, hint }, `error: ${message}\nTry: ${hint}`)
      return ExitCode.usage
    }
    log().error("unexpected error", e)
    const message = e instanceof Error ? e.message : String(e)
    printFailure(json, { code: "internal", message }, `error: ${message}\nThis is a bug. Details are in the log: ${processLogFile()}`)
    return 1
  }
}

export async function run(rawArgs: string[]): Promise<number> {
  const code = await main(rawArgs)
  await flushLogs()
  return code
}

