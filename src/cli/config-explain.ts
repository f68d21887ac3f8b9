import { command } from "./common"
import { explain } from "../governance/explain"
import { explainField, FIELDS, renderExplain, renderField } from "../governance/render"

export default command({
  meta: { name: "explain", description: "Show the effective config for this workspace: every value with its source, and what was blocked, denied or excepted" },
  args: {
    field: { type: "string", description: `Only this field: ${FIELDS.join(", ")}, or mcp_servers.NAME` },
    workspace: { type: "string", description: "Workspace directory (default: the current directory's repository)" },
    team: { type: "string", description: "Explain for this team instead of yours" },
    offline: { type: "boolean", description: "Use the cached org config only" },
    daemon: { type: "boolean", description: "Explain the cca daemon's configuration (cca.toml, CCA__* overrides, defaults) instead" },
  },
  async run(ctx, args) {
    if (args.daemon) return (await import("./config-daemon")).explainDaemon(ctx)
    const x = await explain({ workspace: args.workspace, team: args.team, offline: args.offline })
    for (const w of x.warnings) ctx.warn(w)
    if (args.field !== undefined) {
      ctx.emit("ConfigExplainField", explainField(x, args.field), renderField)
      return
    }
    const { warnings: _, ...data } = x
    ctx.emit("ConfigExplain", data, () => renderExplain(x))
  },
})
