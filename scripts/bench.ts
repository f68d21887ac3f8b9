// `bun run bench NAME`: runs scripts/bench/NAME.ts. Each bench prints its own
// figures next to a baseline measured in the same run.
import { readdirSync } from "node:fs"
import { join } from "node:path"

const dir = join(import.meta.dir, "bench")
const available = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && !f.startsWith("_"))
  .map((f) => f.slice(0, -3))
const name = process.argv[2]
if (!name || !available.includes(name)) {
  console.error(`usage: bun run bench <${available.join("|")}>`)
  process.exit(2)
}
const proc = Bun.spawnSync([process.execPath, join(dir, `${name}.ts`), ...process.argv.slice(3)], { stdout: "inherit", stderr: "inherit", stdin: "inherit" })
process.exit(proc.exitCode ?? 1)
