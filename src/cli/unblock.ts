import { command } from "./common"
import { expiryArgs } from "./exceptions-create"
import { unblock } from "../governance/unblock"

export default command({
  meta: { name: "unblock", description: "Let a denied plugin, MCP server or image through for a while (a local exception)" },
  args: {
    item: { type: "positional", required: true, description: "The denied item, as `scc config explain` names it" },
    reason: { type: "string", description: "Why (required)" },
    ...expiryArgs,
    workspace: { type: "string", description: "Workspace directory (default: the current directory's repository)" },
    team: { type: "string", description: "For this team instead of yours" },
    offline: { type: "boolean", description: "Use the cached org config only" },
  },
  async run(ctx, args) {
    const r = await unblock({
      item: args.item,
      reason: args.reason,
      ttl: args.ttl,
      expiresAt: args["expires-at"],
      until: args.until,
      shared: args.shared,
      workspace: args.workspace,
      team: args.team,
      offline: args.offline,
      now: new Date(),
    })
    for (const w of r.warnings) ctx.warn(w)
    ctx.emit("Unblock", r, (d) => {
      const items = d.unblocked.map((u) => `${u.target_type} ${u.item} (was: ${u.reason})`).join("; ")
      return `Unblocked ${items}\nException ${d.exception.id} (${d.scope}, ${d.path}) expires ${d.exception.expires_at}`
    })
  },
})
