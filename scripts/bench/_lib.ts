// Shared helpers for benchmarks: whole-process timing, percentiles, and a
// side-by-side table so every figure is printed next to its baseline.

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

export type Stats = { runs: number; min: number; p50: number; p95: number; p99: number; max: number; mean: number }

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b)
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)
  return { runs: s.length, min: s[0] ?? NaN, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.at(-1) ?? NaN, mean }
}

/** Wall time (ms) of whole processes, alternating between commands so drift hits all equally. */
export function timeCommands(commands: Record<string, { cmd: string[]; env?: Record<string, string>; cwd?: string }>, runs: number, warmup = 3): Record<string, Stats> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]))
  for (let i = 0; i < warmup + runs; i++) {
    for (const [name, c] of Object.entries(commands)) {
      const t0 = performance.now()
      const r = Bun.spawnSync(c.cmd, { env: c.env, cwd: c.cwd, stdout: "ignore", stderr: "pipe" })
      const dt = performance.now() - t0
      if (r.exitCode !== 0) throw new Error(`${name}: ${c.cmd.join(" ")} exited ${r.exitCode}: ${r.stderr.toString()}`)
      if (i >= warmup) samples[name]!.push(dt)
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)]))
}

export function fmt(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`
}

/** Print rows of named stats as a table; `ratioTo` adds each row's p50 relative to that row. */
export function printTable(title: string, rows: Record<string, Stats>, ratioTo?: string): void {
  console.log(`\n${title}`)
  const base = ratioTo ? rows[ratioTo]?.p50 : undefined
  const header = ["", "runs", "p50", "p95", "p99", "min", base ? "p50 / floor" : ""].filter((h, i) => i < 6 || base)
  const lines = Object.entries(rows).map(([name, s]) => [name, String(s.runs), fmt(s.p50), fmt(s.p95), fmt(s.p99), fmt(s.min), ...(base ? [`${(s.p50 / base).toFixed(2)}x`] : [])])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  for (const l of [header, ...lines]) console.log(l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "))
}

/** A compiled hello-world Bun binary: the floor for whole-process timings. */
export async function helloFloor(dir: string): Promise<string> {
  const src = `${dir}/hello.ts`
  const out = `${dir}/hello`
  await Bun.write(src, 'console.log("hello")\n')
  const r = Bun.spawnSync([process.execPath, "build", "--compile", `--outfile=${out}`, src], { stdout: "ignore", stderr: "pipe" })
  if (r.exitCode !== 0) throw new Error(`compiling the hello-world floor failed: ${r.stderr}`)
  return out
}
