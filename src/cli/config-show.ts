import { command } from "./common"
import { keyValues } from "../output"
import { orgStatus, type OrgStatus } from "../org/status"

export default command({
  meta: { name: "show", description: "Show the user config, the org source and the state of its cache" },
  async run(ctx) {
    const status = await orgStatus()
    ctx.emit("ConfigShow", status, human)
  },
})

const from = (value: string | null, origin: string | null) => (value === null ? "not set" : `${value} (${origin})`)

function human(s: OrgStatus): string {
  const c = s.cache
  const cacheLine = !c.exists
    ? "none"
    : !c.intact
      ? "present but unusable (hash mismatch or no meta): refetched on next use"
      : !c.matches_source
        ? `for another source (${c.source})`
        : `${c.expired ? "expired" : "fresh"}, fetched ${c.fetched_at}, expires ${c.expires_at}${c.etag ? `, etag ${c.etag}` : ""}`
  return keyValues([
    ["config file", `${s.config_file.path}${s.config_file.exists ? "" : " (not written yet: scc setup)"}`],
    ["organization", s.organization.name ?? "unknown (not cached)"],
    ["source", from(s.organization.source, s.organization.source_from)],
    ["resolves to", s.organization.resolved ?? s.organization.source_error ?? ""],
    ["auth", from(s.organization.auth, s.organization.auth_from)],
    ["team", from(s.team.name, s.team.from)],
    ["protected branches", (s.user_config.preferences?.protected_branches ?? ["(defaults)"]).join(", ")],
    ["offline", s.offline ? "yes (SCC_OFFLINE=1)" : "no"],
    ["org config cache", `${c.path}: ${cacheLine}`],
  ])
}
