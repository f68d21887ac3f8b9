import { traceStartup } from "./flag"

// SCC_TRACE_STARTUP=1 prints `[trace] <ms since process start> <label>` to
// stderr at marked points, for finding where a fast command spends its time
// (scripts/bench/trace.ts takes medians over many runs).
const enabled = traceStartup()

export function mark(label: string): void {
  if (enabled) console.error(`[trace] ${performance.now().toFixed(3)} ${label}`)
}
