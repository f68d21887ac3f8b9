import { command } from "./common"
import { UsageError } from "../errors"
import { describeTargets } from "../governance/exceptions"
import { listExceptions } from "../governance/exceptions-ops"
import { table } from "../output"

export default command({
  meta: { name: "list", description: "List exceptions in force (local ones and the org's policy exceptions)" },
  args: {
    all: { type: "boolean", description: "Include expired ones" },
    expired: { type: "boolean", description: "Only expired ones" },
    offline: { type: "boolean", description: "Use the cached org config only" },
  },
  async run(ctx, args) {
    if (args.all && args.expired) throw new UsageError("give --all or --expired, not both", { hint: "scc exceptions list --all" })
    const filter = args.all ? "all" : args.expired ? "expired" : "active"
    const { rows, warnings } = await listExceptions({ filter, now: new Date(), offline: args.offline })
    for (const w of warnings) ctx.warn(w)
    ctx.emit("ExceptionList", { filter, exceptions: rows }, (d) =>
      d.exceptions.length === 0
        ? `No ${filter === "active" ? "active " : filter === "expired" ? "expired " : ""}exceptions.`
        : table(d.exceptions, [
            { header: "id", get: (r) => r.id },
            { header: "scope", get: (r) => r.scope },
            { header: "allows", get: (r) => describeTargets(r.allow) },
            { header: "expires", get: (r) => `${r.expires_at ?? "never"}${r.expired ? " (expired)" : ""}` },
            { header: "reason", get: (r) => r.reason },
          ]),
    )
  },
})
