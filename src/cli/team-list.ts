import { command } from "./common"
import { loadOrgConfig } from "../org/load"
import { orgSettings } from "../org/settings"
import { listTeams } from "../org/teams"
import { table } from "../output"

export default command({
  meta: { name: "list", description: "List the teams (profiles) of the org config; * marks yours" },
  args: { offline: { type: "boolean", description: "Use the cached org config only" } },
  async run(ctx, args) {
    const loaded = await loadOrgConfig({ offline: args.offline || undefined })
    for (const w of loaded.warnings) ctx.warn(w)
    const { team } = await orgSettings()
    const teams = listTeams(loaded.config, team)
    ctx.emit("TeamList", { organization: loaded.config.organization.name, current: team ?? null, teams }, (d) =>
      d.teams.length === 0
        ? `${d.organization} defines no teams`
        : table(d.teams, [
            { header: "", get: (t) => (t.current ? "*" : "") },
            { header: "team", get: (t) => t.name },
            { header: "plugins", get: (t) => t.plugins, align: "right" },
            { header: "mcp", get: (t) => t.mcp_servers, align: "right" },
            { header: "description", get: (t) => t.description },
          ]),
    )
  },
})
