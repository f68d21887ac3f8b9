// Compile src/main.ts into dist/scc, with dist/cca as a second name for it.
// Problem: a compiled Bun binary auto-loads .env and bunfig.toml from the
// directory it runs in. Why it matters: a repository the user opens could
// then change how the tool behaves. Fix: both autoloads are switched off.
import { rmSync, symlinkSync } from "node:fs"
import { join } from "node:path"

const root = join(import.meta.dir, "..")
const dist = join(root, "dist")
const outfile = join(dist, "scc")

const started = performance.now()
const proc = Bun.spawnSync(
  [
    process.execPath,
    "build",
    "--compile",
    "--minify",
    "--sourcemap=none",
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    "--no-compile-autoload-tsconfig",
    "--no-compile-autoload-package-json",
    `--outfile=${outfile}`,
    join(root, "src", "main.ts"),
  ],
  { cwd: root, stdout: "inherit", stderr: "inherit" },
)
if (proc.exitCode !== 0) {
  console.error("build failed")
  process.exit(proc.exitCode ?? 1)
}
rmSync(join(dist, "cca"), { force: true })
symlinkSync("scc", join(dist, "cca"))
console.error(`built dist/scc and dist/cca in ${Math.round(performance.now() - started)} ms`)
