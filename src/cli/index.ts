import { resolve } from "node:path"
import type { Job } from "../codeindex/service"
import { connect } from "../daemon/client"
import { command } from "./common"

// `cca index PATH`: starts an indexing job in the daemon and follows it with
// a progress bar on stderr (stdout gets the finished job).

function bar(j: Job): string {
  const width = 30
  const frac = j.files_total ? j.files_done / j.files_total : 0
  const full = Math.round(frac * width)
  const eta = j.eta_s === null ? "" : ` eta ${j.eta_s}s`
  return `\r[${"#".repeat(full)}${"-".repeat(width - full)}] ${j.files_done}/${j.files_total} files, ${j.chunks} chunks, ${j.errors.length} errors, ${j.rate_files_s} files/s${eta}   `
}

export default command({
  meta: { name: "index", description: "Index a directory's code for search-code (incremental: unchanged files are skipped)" },
  args: {
    path: { type: "positional", description: "Directory to index (inside [indexing] roots)", required: true },
    extensions: { type: "string", description: "Only these extensions, comma-separated (ts,py)" },
    exclude: { type: "string", description: "Globs to skip, comma-separated (vendor/**)" },
  },
  async run(ctx, args) {
    const client = await connect()
    const list = (s: unknown) => (typeof s === "string" && s ? s.split(",").map((x) => x.trim()).filter(Boolean) : undefined)
    let job = await client.post<Job>("/api/v1/code/index", { path: resolve(String(args.path)), extensions: list(args.extensions), exclude: list(args.exclude) })
    const tty = process.stderr.isTTY
    while (job.status === "running") {
      if (tty) process.stderr.write(bar(job))
      await Bun.sleep(250)
      job = await client.get<Job>(`/api/v1/code/index/${job.id}`)
    }
    if (tty) process.stderr.write(`${bar(job)}\n`)
    ctx.emit("IndexJob", job, (j) => `${j.status}: ${j.files_done} files (${j.files_unchanged} unchanged, ${j.files_skipped} skipped, ${j.files_removed} removed), ${j.chunks} chunks, ${j.errors.length} errors in ${j.root}`)
  },
})
