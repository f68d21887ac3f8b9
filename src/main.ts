import { mark } from "./trace"
import { VERSION } from "./version"

// Entry point of the `scc` / `cca` binary. `--version` answers before the
// command tree (citty, logging, paths) is loaded; everything else goes
// through the error boundary in cli/root.ts, which returns the exit code.

const rawArgs = process.argv.slice(2)
if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
  console.log(VERSION)
  process.exit(0)
}
mark("main")
const { run } = await import("./cli/root")
mark("command tree loaded")
process.exit(await run(rawArgs))
