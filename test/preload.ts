// Runs before any test file (bunfig.toml [test] preload). Points HOME and the
// XDG directories at a fresh temp dir so no test reads or writes the real
// user's files, and clears variables that would change the program's answers.
import { mkdtempSync, mkdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const home = mkdtempSync(join(tmpdir(), "scc-test-home-"))
process.on("exit", () => rmSync(home, { recursive: true, force: true }))
for (const [name, sub] of [
  ["XDG_CONFIG_HOME", ".config"],
  ["XDG_CACHE_HOME", ".cache"],
  ["XDG_DATA_HOME", ".local/share"],
  ["XDG_STATE_HOME", ".local/state"],
] as const) {
  mkdirSync(join(home, sub), { recursive: true })
  process.env[name] = join(home, sub)
}
process.env.HOME = home
for (const name of Object.keys(process.env)) {
  if (name.startsWith("SCC_") || name.startsWith("CCA_") || name === "DOCKER_HOST") delete process.env[name]
}
process.env.NO_COLOR = "1"
