// A separate process appending lines to a usage log, for the concurrency tests:
// bun test/stats/writer.ts FILE WRITER_ID COUNT
import { appendLine } from "../../src/stats/append"

const [file, id, count] = process.argv.slice(2)
const n = Number(count)
for (let i = 0; i < n; i++) {
  // Sizes from a few bytes to ~20 KB, well past PIPE_BUF (4 KiB) and a page.
  const size = (i * 7919 + Number(id) * 104729) % 20000
  appendLine(file!, JSON.stringify({ w: Number(id), i, pad: "x".repeat(size) }))
}
