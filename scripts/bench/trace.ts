// `bun run bench trace [runs] -- ARGS...`: runs `dist/scc ARGS` many times with
// SCC_TRACE_STARTUP=1 and prints the median time (ms since process start) of
// every mark, and the step from the previous mark. Run it from the directory
// the command should run in; it uses the caller's environment.
import { join } from "node:path"
import { percentile } from "./_lib"

const sep = process.argv.indexOf("--")
const runs = (sep === 2 ? 50 : Number(process.argv[2])) || 50
const args = sep === -1 ? ["version", "--json"] : process.argv.slice(sep + 1)
const scc = join(import.meta.dir, "..", "..", "dist", "scc")

const marks = new Map<string, number[]>()
const walls: number[] = []
for (let i = 0; i < runs + 3; i++) {
  const t0 = performance.now()
  const r = Bun.spawnSync([scc, ...args], { env: { ...process.env, SCC_TRACE_STARTUP: "1" }, stdout: "ignore", stderr: "pipe" })
  const wall = performance.now() - t0
  if (r.exitCode !== 0) throw new Error(`scc ${args.join(" ")} exited ${r.exitCode}: ${r.stderr}`)
  if (i < 3) continue
  walls.push(wall)
  for (const line of r.stderr.toString().split("\n")) {
    const m = /^\[trace\] ([\d.]+) (.*)$/.exec(line)
    if (m) marks.set(m[2]!, [...(marks.get(m[2]!) ?? []), Number(m[1])])
  }
}
const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50)
console.log(`scc ${args.join(" ")}: ${runs} runs; median wall ${med(walls).toFixed(2)} ms`)
let prev = 0
for (const [label, xs] of marks) {
  const m = med(xs)
  console.log(`${m.toFixed(2).padStart(8)} ms  (+${(m - prev).toFixed(2).padStart(5)})  ${label}`)
  prev = m
}
