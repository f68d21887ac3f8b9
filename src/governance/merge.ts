import { NotFoundError } from "../errors"
import type { McpServer, OrgConfig, Profile, ProjectConfig } from "../org/schema"
import { activeLocalExceptions, activePolicyExceptions, type ScopedLocalException } from "./exceptions"
import { Ledger, liftedNote } from "./ledger"
import { casefold, firstMatch, PatternSet } from "./match"
import { chooseImage, mergeScalars } from "./merge-fields"
import { normalizePluginRef } from "./refs"
import { stdioGate, type Host } from "./stdio"
import type { EffectiveConfig, EffectiveMcpServer, Source } from "./types"

// The one merge that `config explain`, `start --dry-run` and `start` share:
// org defaults, then the team profile, then the project's .scc.yaml. Pure:
// the clock and the host (does a stdio command exist, where does it really
// lead) are passed in, so it is testable and fast (no I/O of its own).
//
// Plugins and MCP servers accumulate across layers. Every item, org defaults
// included, passes security first, then delegation (team and project layers
// only): a team addition needs the team to match
// delegation.teams.allow_additional_*; a project addition needs the org's
// delegation.projects.inherit_team_delegation and then the team's
// delegation.allow_project_overrides (the org switch is reported first).
// Additions must also match defaults.allowed_* when that list is non-empty.
// defaults.disabled_plugins turns off org-default plugins only; a team or
// project that adds one (with delegation) turns it back on.

export type MergeInput = {
  org: OrgConfig
  team?: string | null
  project?: ProjectConfig | null
  localExceptions?: readonly ScopedLocalException[]
  /** `--image` on the command line (source `cli`), passed through by `start`. */
  image?: string
  now: Date
  host: Host
}

type Layer = { source: Source; kind: "org" | "team" | "project" }

/** The context every field's merge reads: the inputs, the ledger, and the delegation verdicts. */
export type MergeState = {
  org: OrgConfig
  team: string | null
  profile: Profile | undefined
  project: ProjectConfig | null
  ledger: Ledger
  /** Why the project may not override or add anything, or undefined when it may. */
  projectDenial: string | undefined
}

export function computeEffectiveConfig(input: MergeInput): EffectiveConfig {
  const { org, now } = input
  const team = input.team ?? null
  const profile = team === null ? undefined : org.profiles?.[team]
  if (team !== null && !profile) {
    const known = Object.keys(org.profiles ?? {})
    throw new NotFoundError(`Team '${team}' is not in the org config (${known.length ? `teams: ${known.join(", ")}` : "it defines no teams"})`, {
      hint: "scc team list, then scc team switch NAME",
    })
  }
  const ledger = new Ledger([...activePolicyExceptions(org.exceptions, team, now), ...activeLocalExceptions(input.localExceptions, now)])
  const state: MergeState = { org, team, profile, project: input.project ?? null, ledger, projectDenial: projectDenial(org, team, profile) }

  const layers: Layer[] = [{ source: "org.defaults", kind: "org" }]
  if (team !== null) layers.push({ source: `team.${team}`, kind: "team" })
  if (state.project) layers.push({ source: "project", kind: "project" })

  const plugins = mergePlugins(state, layers)
  const mcp_servers = mergeMcpServers(state, layers, input.host)
  const scalars = mergeScalars(state)
  const image = chooseImage(state, input.image)

  const marketplaces: EffectiveConfig["effective"]["marketplaces"] = {}
  for (const p of plugins) {
    const m = org.marketplaces?.[p.marketplace]
    if (m) marketplaces[p.marketplace] = m
  }
  for (const name of new Set(plugins.map((p) => p.marketplace))) {
    if (marketplaces[name]) ledger.decide(`marketplaces.${name}`, marketplaces[name], "org.defaults", "needed by the effective plugins")
    else ledger.warnings.push(`Marketplace '${name}' is not defined in the org config's marketplaces; Claude Code must already know it`)
  }

  return {
    team,
    effective: { plugins: plugins.map((p) => p.ref), mcp_servers, marketplaces, ...scalars, image },
    decisions: ledger.decisions,
    blocked: ledger.blocked,
    denied: ledger.denied,
    exceptions: ledger.appliedExceptions(),
    warnings: ledger.warnings,
  }
}

function projectDenial(org: OrgConfig, team: string | null, profile: Profile | undefined): string | undefined {
  if (!org.delegation?.projects?.inherit_team_delegation)
    return "Org policy disables project overrides (delegation.projects.inherit_team_delegation: false)"
  if (team === null) return "No team selected; project overrides need a team that allows them (delegation.allow_project_overrides)"
  if (!profile?.delegation?.allow_project_overrides) return `Team '${team}' disabled project overrides (allow_project_overrides: false)`
  return undefined
}

/** Why `layer` may not add items of this kind (delegation only; allowlists are checked per item). */
function layerDenial(state: MergeState, layer: Layer, what: "plugins" | "MCP servers", delegated: readonly string[] | undefined): string | undefined {
  if (layer.kind === "org") return undefined
  if (layer.kind === "project") return state.projectDenial
  const pattern = firstMatch(state.team!, delegated ?? [])
  return pattern === undefined ? `Team '${state.team}' not allowed to add ${what}` : undefined
}

function addedBy(state: MergeState, layer: Layer): string {
  if (layer.kind === "org") return "enabled by org defaults"
  if (layer.kind === "team") return `added by team '${state.team}'`
  return "added by the project's .scc.yaml"
}

type AcceptedPlugin = { ref: string; marketplace: string }

function mergePlugins(state: MergeState, layers: readonly Layer[]): AcceptedPlugin[] {
  const { org, ledger } = state
  const marketplaceNames = Object.keys(org.marketplaces ?? {})
  const blocked = new PatternSet(org.security?.blocked_plugins ?? [])
  const allowlist = new PatternSet(org.defaults?.allowed_plugins ?? [])
  const disabled = new PatternSet(org.defaults?.disabled_plugins ?? [])
  const accepted = new Map<string, AcceptedPlugin>()

  for (const layer of layers) {
    const requested =
      layer.kind === "org" ? org.defaults?.enabled_plugins : layer.kind === "team" ? state.profile?.additional_plugins : state.project?.additional_plugins
    if (!requested?.length) continue
    const denial = layerDenial(state, layer, "plugins", org.delegation?.teams?.allow_additional_plugins)
    const checkAllowlist = layer.kind !== "org" && denial === undefined && allowlist.size > 0
    const why = addedBy(state, layer)
    for (const raw of requested) {
      const parsed = normalizePluginRef(raw, marketplaceNames)
      if (!parsed.ok) {
        if (layer.kind === "org") ledger.warnings.push(`defaults.enabled_plugins: ${parsed.error}`)
        else ledger.deny(raw.trim(), "plugin", layer.kind, parsed.error)
        continue
      }
      const { ref, folded, marketplace } = parsed.plugin
      if (accepted.has(folded[0])) continue // an earlier layer already enabled it
      if (layer.kind === "org" && disabled.size > 0) {
        const off = disabled.first(folded)
        if (off !== undefined) {
          ledger.decide("plugins", ref, layer.source, `disabled by defaults.disabled_plugins ('${off}')`)
          continue
        }
      }
      const outside = checkAllowlist && allowlist.first(folded) === undefined ? `Plugin '${ref}' is not in defaults.allowed_plugins` : undefined
      const lifted = ledger.admit({ item: ref, type: "plugin", folded }, layer.source, blocked.first(folded), denial ?? outside)
      if (lifted === null) continue
      accepted.set(folded[0], { ref, marketplace })
      ledger.decide("plugins", ref, layer.source, why + liftedNote(lifted))
    }
  }
  return [...accepted.values()]
}

function urlHost(url: string | undefined): string | undefined {
  if (url === undefined) return undefined
  try {
    return new URL(url.trim()).hostname.toLowerCase() || undefined
  } catch {
    return undefined
  }
}

function mergeMcpServers(state: MergeState, layers: readonly Layer[], host: Host): EffectiveMcpServer[] {
  const { org, ledger } = state
  const security = org.security ?? {}
  const blocked = new PatternSet(security.blocked_mcp_servers ?? [])
  const allowlist = new PatternSet(org.defaults?.allowed_mcp_servers ?? [])
  const accepted = new Map<string, EffectiveMcpServer>()

  for (const layer of layers) {
    const requested: readonly McpServer[] | undefined =
      layer.kind === "org" ? org.defaults?.mcp_servers : layer.kind === "team" ? state.profile?.additional_mcp_servers : state.project?.additional_mcp_servers
    if (!requested?.length) continue
    const denial = layerDenial(state, layer, "MCP servers", org.delegation?.teams?.allow_additional_mcp_servers)
    const checkAllowlist = layer.kind !== "org" && denial === undefined && allowlist.size > 0
    const why = addedBy(state, layer)
    for (const server of requested) {
      const name = server.name.trim()
      const hostName = urlHost(server.url)
      // Matched by name, then by the URL's host, then (stdio) by command.
      const folded = [casefold(name)]
      if (hostName) folded.push(casefold(hostName))
      if (server.type === "stdio" && server.command) folded.push(casefold(server.command))
      let block = blocked.first(folded)
      let warning: string | undefined
      if (block === undefined && server.type !== "stdio" && !hostName) block = `url '${server.url ?? ""}' is not a valid URL, so its host cannot be checked`
      if (block === undefined && server.type === "stdio") {
        const verdict = stdioGate(name, server.command ?? "", security, host)
        if (verdict.blocked !== undefined) block = verdict.blocked
        else warning = verdict.warning
      }
      const outside = checkAllowlist && allowlist.first(folded) === undefined ? `MCP server '${name}' is not in defaults.allowed_mcp_servers` : undefined
      const lifted = ledger.admit({ item: name, type: "mcp_server", folded }, layer.source, block, denial ?? outside)
      if (lifted === null) continue
      if (warning) ledger.warnings.push(warning)
      const key = folded[0]!
      const replaced = accepted.get(key)
      accepted.delete(key) // keep the order of the layer that set it last
      accepted.set(key, { ...server, name, source: layer.source })
      const target = server.type === "stdio" ? server.command : server.url
      const note = replaced ? `; replaces the server from ${replaced.source}` : ""
      ledger.decide(`mcp_servers.${name}`, target, layer.source, why + note + liftedNote(lifted))
    }
  }
  return [...accepted.values()]
}
