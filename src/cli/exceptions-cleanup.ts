import { command } from "./common"
import { cleanupExceptions } from "../governance/exceptions-ops"

export default command({
  meta: { name: "cleanup", description: "Remove expired local exceptions" },
  async run(ctx) {
    const r = await cleanupExceptions({ now: new Date() })
    for (const w of r.warnings) ctx.warn(w)
    ctx.emit("ExceptionCleanup", r, (d) => (d.removed.length === 0 ? "No expired exceptions." : `Removed ${d.removed.length} expired exception(s): ${d.removed.map((e) => e.id).join(", ")}`))
  },
})
