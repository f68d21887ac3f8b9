import { expect, test } from "bun:test"
import { parseArgs as nodeParseArgs } from "node:util"
import { parseArgs } from "../../src/cli/parse-args"

// The shim must answer exactly like node:util for the way citty calls it.
const options = {
  json: { type: "boolean" },
  verbose: { type: "boolean", short: "V" },
  team: { type: "string", short: "t" },
  ttl: { type: "string", default: "8h" },
  force: { type: "boolean", short: "f" },
} as const

const cases: string[][] = [
  [],
  ["explain"],
  ["explain", "--json"],
  ["--team", "finance", "explain"],
  ["--team=finance", "explain"],
  ["-t", "finance"],
  ["-tfinance"],
  ["-fV", "x"],
  ["--ttl", "2h", "--json", "a", "b"],
  ["--unknown", "value"],
  ["--unknown=value"],
  ["--json=false"],
  ["a", "--", "--json", "-t", "x"],
  ["-"],
  ["--team"],
  ["--team", "--json"],
  ["-t", "-f"],
  ["-x"],
  ["--no-json"],
  ["--json", "--json"],
  ["--team", "a", "--team", "b"],
]

for (const args of cases) {
  test(`parseArgs ${JSON.stringify(args)} matches node:util`, () => {
    const config = { args, options, allowPositionals: true, strict: false } as const
    const expected = nodeParseArgs(config)
    const actual = parseArgs(config)
    expect(actual.positionals).toEqual(expected.positionals)
    expect({ ...actual.values } as Record<string, unknown>).toEqual({ ...expected.values })
  })
}
