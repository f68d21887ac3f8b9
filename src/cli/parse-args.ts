// Problem: citty parses with `parseArgs` from node:util, and loading node:util
// costs ~3 ms at start-up in a compiled binary, a quarter of what a fast
// command may spend in total. Why not drop citty: its command tree, lazy
// subcommands and help rendering are what we want. Fix: scripts/build.ts
// points citty's `node:util` import at this module, which implements the
// subset of util.parseArgs citty uses (strict: false, allowPositionals,
// boolean/string options with short aliases and defaults), with the same
// results for those inputs. test/unit/parse-args.test.ts checks it against
// node:util itself.

type OptionConfig = { type: "boolean" | "string"; short?: string; default?: string | boolean }

export type ParseArgsConfig = {
  args?: string[]
  options?: Record<string, OptionConfig>
  allowPositionals?: boolean
  strict?: boolean
}

export function parseArgs(config: ParseArgsConfig): { values: Record<string, string | boolean>; positionals: string[] } {
  const args = config.args ?? []
  const options = config.options ?? {}
  const byShort = new Map<string, string>()
  for (const [name, o] of Object.entries(options)) if (o.short) byShort.set(o.short, name)

  const values: Record<string, string | boolean> = {}
  const positionals: string[] = []
  const isString = (name: string) => options[name]?.type === "string"
  // A string option takes the next argument as its value, whatever it looks like (as node does).
  const takeValue = (i: number): string | undefined => args[i + 1]

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--") {
      positionals.push(...args.slice(i + 1))
      break
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=")
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
      if (eq !== -1) values[name] = arg.slice(eq + 1)
      else if (isString(name)) {
        const value = takeValue(i)
        if (value === undefined) values[name] = true
        else {
          values[name] = value
          i++
        }
      } else values[name] = true
      continue
    }
    if (arg.startsWith("-") && arg.length > 1) {
      const letters = arg.slice(1)
      for (let j = 0; j < letters.length; j++) {
        const letter = letters[j]!
        const name = byShort.get(letter) ?? letter
        if (isString(name)) {
          const rest = letters.slice(j + 1)
          if (rest) values[name] = rest
          else {
            const value = takeValue(i)
            if (value === undefined) values[name] = true
            else {
              values[name] = value
              i++
            }
          }
          break
        }
        values[name] = true
      }
      continue
    }
    positionals.push(arg)
  }
  for (const [name, o] of Object.entries(options)) if (values[name] === undefined && o.default !== undefined) values[name] = o.default
  return { values, positionals }
}
