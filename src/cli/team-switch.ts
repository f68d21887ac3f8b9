import { command } from "./common"
import { loadOrgConfig } from "../org/load"
import { switchTeam } from "../org/teams"

export default command({
  meta: { name: "switch", description: "Make TEAM your team (checked against the org config)" },
  args: {
    team: { type: "positional", required: true, description: "A team from `scc team list`" },
    offline: { type: "boolean", description: "Use the cached org config only" },
  },
  async run(ctx, args) {
    const loaded = await loadOrgConfig({ offline: args.offline || undefined })
    for (const w of loaded.warnings) ctx.warn(w)
    const r = await switchTeam(loaded, args.team)
    ctx.emit("TeamSwitch", r, (d) => (d.previous === d.team ? `Already on team ${d.team}` : `Switched to team ${d.team}${d.previous ? ` (was ${d.previous})` : ""}`))
  },
})
