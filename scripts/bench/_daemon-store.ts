// The embedded store's share of `bun run bench daemon`: task create + fetch
// on PGlite (target: p99 under 2 ms per pair), next to a bare `SELECT 1`
// round trip on the same PGlite (the floor), plus PGlite's first-open and
// reopen times on disk. scripts/bench/daemon.ts calls benchDaemonStore();
// `bun scripts/bench/_daemon-store.ts [runs]` runs it alone.
import { mkdtempSync, rmSync } from "node:fs"
import { availableParallelism, loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { openStore, type Store } from "../../src/store/store"
import { fmt, printTable, stats, type Stats } from "./_lib"

export type StoreFigures = {
  firstOpenMs: number
  reopenMs: number
  rows: Record<string, Stats>
  createFetchP99Ms: number
  targetMs: number
}

async function sample(runs: number, fn: () => Promise<unknown>): Promise<Stats> {
  for (let i = 0; i < Math.min(200, runs); i++) await fn() // warm-up: plans cached, pages in memory
  const out: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    await fn()
    out.push(performance.now() - t0)
  }
  return stats(out)
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now()
  const v = await fn()
  return [v, performance.now() - t0]
}

export async function benchDaemonStore(opts: { runs?: number; print?: boolean } = {}): Promise<StoreFigures> {
  const runs = opts.runs ?? 2000
  const dir = mkdtempSync(join(tmpdir(), "bench-store-"))
  const dataDir = join(dir, "pg")
  let store: Store | undefined
  try {
    const [first, firstOpenMs] = await timed(() => openStore({ dataDir }))
    await first.close()
    const [reopened, reopenMs] = await timed(() => openStore({ dataDir }))
    store = reopened
    const s = store
    const rows: Record<string, Stats> = {
      "SELECT 1 round trip (floor)": await sample(runs, () => s.sql.query("SELECT 1")),
      "tasks.get (one row by id)": await (async () => {
        const { task } = await s.tasks.create({ description: "probe" })
        return sample(runs, () => s.tasks.get(task.id))
      })(),
      "tasks.create + tasks.get": await sample(runs, async () => {
        const { task } = await s.tasks.create({ description: "benchmark task", role: "backend", metadata: { n: 1 } })
        if (!(await s.tasks.get(task.id))) throw new Error("created task not found")
      }),
      "claim + complete (a task's run)": await (async () => {
        for (let i = 0; i < runs + 200; i++) await s.tasks.create({ description: "to run" })
        return sample(runs, async () => {
          const t = await s.tasks.claimNext({ owner: "bench", agentId: "a1" })
          if (!t) throw new Error("nothing to claim")
          await s.tasks.complete(t.task.id, "ok", { usage: { inputTokens: 10, outputTokens: 5 }, costUsd: 0.001, durationMs: 1 })
        })
      })(),
    }
    const createFetch = rows["tasks.create + tasks.get"]!
    const figures: StoreFigures = { firstOpenMs, reopenMs, rows, createFetchP99Ms: createFetch.p99, targetMs: 2 }
    if (opts.print !== false) {
      printTable(`embedded store (PGlite on disk), ${runs} runs each`, rows, "SELECT 1 round trip (floor)")
      console.log(`PGlite first open (initdb + migrations): ${fmt(firstOpenMs)}; reopen: ${fmt(reopenMs)}`)
      console.log(`task create + fetch p50 ${fmt(createFetch.p50)}, p99 ${fmt(createFetch.p99)} (target < 2 ms): ${createFetch.p99 < 2 ? "met" : "NOT met"}`)
      // Tails on a shared machine are mostly other processes: say how busy it was.
      console.log(`load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores while measuring`)
    }
    return figures
  } finally {
    await store?.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) await benchDaemonStore({ runs: Number(process.argv[2] ?? 2000) })
