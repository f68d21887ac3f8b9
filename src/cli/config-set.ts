import { command } from "./common"
import { loadOrgConfig } from "../org/load"
import { switchTeam } from "../org/teams"
import { setUserValue } from "../org/user-settings"
import { paths } from "../paths"

export default command({
  meta: { name: "set", description: "Change one value of the user config (lists: a,b or a JSON array)" },
  args: {
    key: { type: "positional", required: true, description: "Dotted key, e.g. preferences.protected_branches" },
    value: { type: "positional", required: true, description: "New value" },
  },
  async run(ctx, args) {
    let result: { key: string; value: unknown; previous: unknown; path: string }
    if (args.key === "team") {
      // the same check as `scc team switch`: the team must exist in the org config
      const loaded = await loadOrgConfig()
      for (const w of loaded.warnings) ctx.warn(w)
      const r = await switchTeam(loaded, args.value)
      result = { key: "team", value: r.team, previous: r.previous ?? undefined, path: paths.sccConfigFile() }
    } else result = await setUserValue(args.key, args.value)
    ctx.emit("ConfigSet", result, (d) => `${d.key} = ${typeof d.value === "string" ? d.value : JSON.stringify(d.value)} (${d.path})`)
  },
})
