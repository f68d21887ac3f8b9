// `bun run bench startup`: whole-process wall time of the binary's cheapest
// paths next to a compiled hello-world Bun binary (the floor).
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { helloFloor, printTable, timeCommands } from "./_lib"

const runs = Number(process.argv[2] ?? 40)
const dir = mkdtempSync(join(tmpdir(), "bench-startup-"))
const hello = await helloFloor(dir)
const scc = join(import.meta.dir, "..", "..", "dist", "scc")
const rows = timeCommands(
  {
    "hello-world (floor)": { cmd: [hello] },
    "scc --version": { cmd: [scc, "--version"] },
    "scc version --json": { cmd: [scc, "version", "--json"] },
  },
  runs,
)
printTable(`start-up, ${runs} runs each (wall time of the whole process)`, rows, "hello-world (floor)")
