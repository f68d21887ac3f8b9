import { UsageError } from "../errors"

// Problem: citty parses with `strict: false`, so an unknown flag is silently
// dropped (`--tll 30m` made an 8-hour exception), a flag given twice keeps
// only its last value, and stray words vanish into `args._`. Fix: before a
// command runs, `checkArgs` reads the raw words against the command's own
// argument definitions, once for every command (common.ts calls it), and
// refuses with exit 2 what would otherwise be lost:
// - an unknown flag, named, with a "did you mean" suggestion;
// - a single-value option given twice (a `multiple` option accumulates);
// - positional words the command does not take;
// - a string option with no value, and an `integer` option that is not one.

/** What citty's ArgDef carries, plus our two markers. */
export type CheckedArgDef = {
  type?: "boolean" | "string" | "enum" | "positional"
  alias?: string | string[]
  options?: readonly string[]
  /** A string option that may be given several times; the command gets every value. */
  multiple?: boolean
  /** A string option that must be a whole number >= 0 (checked before any request). */
  integer?: boolean
}

export type ArgCheck = {
  /** Every value of each `multiple` option, in the order given. */
  lists: Record<string, string[]>
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = cur
    }
  }
  return row[b.length]!
}

/** The closest known flag, when it is close enough to be what was meant. */
export function suggestFlag(given: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestD = Infinity
  for (const k of known) {
    const d = k.startsWith(given) || given.startsWith(k) ? Math.min(1, distance(given, k)) : distance(given, k)
    if (d < bestD) [best, bestD] = [k, d]
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(given.length / 3)) ? best : undefined
}

/**
 * Check `rawArgs` (the words after the command's name) against `defs`.
 * `command` names the command in messages (`scc exceptions create`);
 * `variadic` lets the command take any number of positional words.
 */
export function checkArgs(defs: Record<string, CheckedArgDef>, rawArgs: readonly string[], opts: { command: string; variadic?: boolean }): ArgCheck {
  const long = new Map<string, string>()
  const short = new Map<string, string>()
  const positional: string[] = []
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional") {
      positional.push(name)
      continue
    }
    long.set(kebab(name), name)
    for (const a of [def.alias ?? []].flat()) (a.length === 1 ? short : long).set(a, name)
  }
  const help = `${opts.command} --help`
  const usage = (message: string, hint = help) => new UsageError(message, { hint })
  const seen = new Map<string, string>()
  const lists: Record<string, string[]> = {}
  const words: string[] = []

  const take = (name: string, flagText: string, value: string | undefined) => {
    const def = defs[name]!
    if (def.type === "boolean") return
    if (value === undefined) throw usage(`${flagText} needs a value`)
    if (def.integer && !/^\d+$/.test(value.trim())) throw usage(`${flagText} must be a whole number, not '${value}'`, `${flagText} 10`)
    if (def.type === "enum" && def.options && !def.options.includes(value))
      throw usage(`${flagText} must be one of ${def.options.join(", ")}, not '${value}'`)
    if (def.multiple) {
      ;(lists[name] ??= []).push(value)
      return
    }
    const before = seen.get(name)
    if (before !== undefined) throw usage(`${flagText} was given twice ('${before}' and '${value}'); it takes one value`, `give ${flagText} once`)
    seen.set(name, value)
  }

  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!
    if (arg === "--") break // what follows is passed through as it is
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=")
      const given = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
      let name = long.get(given) ?? long.get(kebab(given))
      if (name === undefined && given.startsWith("no-")) {
        const positive = long.get(given.slice(3))
        if (positive !== undefined && defs[positive]!.type === "boolean") continue
      }
      if (name === undefined) {
        const guess = suggestFlag(given, [...long.keys()])
        throw usage(`unknown flag --${given} for ${opts.command}${guess ? `; did you mean --${guess}?` : ""}`)
      }
      const def = defs[name]!
      if (def.type === "boolean") {
        if (eq !== -1 && !["true", "false"].includes(arg.slice(eq + 1))) throw usage(`--${given} is a switch and takes no value`)
        continue
      }
      let value: string | undefined
      if (eq !== -1) value = arg.slice(eq + 1)
      else if (i + 1 < rawArgs.length) value = rawArgs[++i]
      take(name, `--${given}`, value)
      continue
    }
    if (arg.startsWith("-") && arg.length > 1 && !/^-\d/.test(arg)) {
      const letters = arg.slice(1)
      for (let j = 0; j < letters.length; j++) {
        const name = short.get(letters[j]!)
        if (name === undefined) {
          const guess = suggestFlag(letters[j]!, [...short.keys()])
          throw usage(`unknown flag -${letters[j]} for ${opts.command}${guess ? `; did you mean -${guess}?` : ""}`)
        }
        if (defs[name]!.type === "boolean") continue
        const rest = letters.slice(j + 1)
        take(name, `-${letters[j]}`, rest ? rest : i + 1 < rawArgs.length ? rawArgs[++i] : undefined)
        break
      }
      continue
    }
    words.push(arg)
  }
  if (!opts.variadic && words.length > positional.length) {
    const extra = words.slice(positional.length)
    const takes = positional.length === 0 ? "takes no arguments" : `takes ${positional.map((p) => p.toUpperCase()).join(" ")}`
    throw usage(`${opts.command} ${takes}; unexpected ${extra.map((w) => `'${w}'`).join(" ")}`)
  }
  return { lists }
}

/** A `multiple` option's values as a list, whatever citty left in `args`. */
export function listArg(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String)
  return value === undefined || value === null || value === false ? [] : [String(value)]
}
