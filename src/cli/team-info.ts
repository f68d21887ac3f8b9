import { command } from "./common"
import { UsageError } from "../errors"
import { loadOrgConfig } from "../org/load"
import { orgSettings } from "../org/settings"
import { teamInfo, type TeamInfo } from "../org/teams"
import { keyValues } from "../output"

export default command({
  meta: { name: "info", description: "What a team adds to the org defaults, and what it may delegate" },
  args: {
    team: { type: "positional", required: false, description: "Team (default: yours)" },
    offline: { type: "boolean", description: "Use the cached org config only" },
  },
  async run(ctx, args) {
    const loaded = await loadOrgConfig({ offline: args.offline || undefined })
    for (const w of loaded.warnings) ctx.warn(w)
    const { team: current } = await orgSettings()
    const name = args.team ?? current
    if (!name) throw new UsageError("no team given and none chosen yet", { hint: "scc team info <team>, or scc team switch <team>" })
    ctx.emit("TeamInfo", teamInfo(loaded.config, name, current), human)
  },
})

const list = (items: string[]) => (items.length ? items.join(", ") : "none")

function human(t: TeamInfo): string {
  const d = t.delegation
  return keyValues([
    ["team", `${t.name}${t.current ? " (yours)" : ""}`],
    ["description", t.description ?? ""],
    ["plugins", list(t.additional_plugins)],
    ["mcp servers", list(t.additional_mcp_servers.map((s) => `${s.name} (${s.type} ${s.url ?? s.command ?? ""})`))],
    ["network policy", t.network_policy ?? "org default"],
    ["session timeout", t.session?.timeout_hours !== undefined ? `${t.session.timeout_hours} h` : "org default"],
    ["image", t.sandbox?.image ?? "org default"],
    ["may add plugins", d.add_plugins ? `yes (delegation.teams pattern '${d.add_plugins}')` : "no"],
    ["may add mcp servers", d.add_mcp_servers ? `yes (delegation.teams pattern '${d.add_mcp_servers}')` : "no"],
    ["project overrides", d.projects_may_add ? "allowed" : d.allow_project_overrides ? "allowed by the team, but the org does not let projects inherit delegation" : "not allowed"],
  ])
}
