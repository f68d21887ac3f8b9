import { command } from "./common"
import { renderBuckets } from "./stats-format"
import { UsageError } from "../errors"
import { aggregate, readExports } from "../stats/export"

export default command({
  meta: { name: "aggregate", description: "Sum several users' exports per project and per team" },
  variadic: true,
  args: { files: { type: "positional", description: "Files written by `stats export --json -o FILE`", required: false } },
  async run(ctx, args) {
    const files = args._.map(String)
    if (files.length === 0) throw new UsageError("no export files given", { hint: "scc stats aggregate alice.json bob.json" })
    const agg = aggregate(await readExports(files))
    ctx.emit("UsageAggregate", agg, (d) =>
      renderBuckets([["files", d.files], ["period", `${d.period.from ?? "start"} .. ${d.period.to ?? "now"}`]], d.totals, d.by_project, d.by_team),
    )
  },
})
