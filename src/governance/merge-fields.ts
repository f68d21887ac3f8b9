import type { SafetyNet } from "../org/schema"
import { liftedNote } from "./ledger"
import type { MergeState } from "./merge"
import { PatternSet } from "./match"
import { imagePattern, imagePolicyForms, imageRef } from "./refs"
import type { Effective, Source } from "./types"

// The single-valued fields of the merge. Session timeout: the team overrides
// the org; the project overrides only when delegated. network_policy and
// auto_resume: the team overrides the org. safety_net: security only. Image:
// the highest layer that asks for one and passes the checks wins (cli, then
// project, then team, then org defaults).

const SAFETY_NET_DEFAULTS: SafetyNet = {
  action: "block",
  block_force_push: true,
  block_reset_hard: true,
  block_branch_force_delete: true,
  block_clean: true,
}

export function mergeScalars(state: MergeState): Pick<Effective, "session" | "network_policy" | "safety_net"> {
  const { org, team, profile, project, ledger } = state
  const teamSource: Source = `team.${team}`

  const orgSession = org.defaults?.session ?? {}
  let timeout: number | null = orgSession.timeout_hours ?? null
  let timeoutSource: Source = "org.defaults"
  let timeoutReason = timeout === null ? "no layer sets it; sessions do not time out" : "org default (defaults.session.timeout_hours)"
  if (profile?.session?.timeout_hours !== undefined) {
    timeout = profile.session.timeout_hours
    timeoutSource = teamSource
    timeoutReason = `set by team '${team}' (overrides the org default)`
  }
  const projectTimeout = project?.session?.timeout_hours
  if (projectTimeout !== undefined) {
    if (state.projectDenial === undefined) {
      timeout = projectTimeout
      timeoutSource = "project"
      timeoutReason = "set by the project's .scc.yaml (project overrides are delegated)"
    } else {
      timeoutReason += `; the project's ${projectTimeout}h is ignored: ${state.projectDenial}`
      ledger.warnings.push(`.scc.yaml session.timeout_hours (${projectTimeout}) is ignored: ${state.projectDenial}`)
    }
  }
  ledger.decide("session.timeout_hours", timeout, timeoutSource, timeoutReason)

  let autoResume = orgSession.auto_resume ?? false
  let autoResumeSource: Source = "org.defaults"
  if (profile?.session?.auto_resume !== undefined) {
    autoResume = profile.session.auto_resume
    autoResumeSource = teamSource
  }
  ledger.decide("session.auto_resume", autoResume, autoResumeSource, autoResumeSource === "org.defaults" ? "org default" : `set by team '${team}'`)

  let network = org.defaults?.network_policy ?? "unrestricted"
  let networkSource: Source = "org.defaults"
  if (profile?.network_policy !== undefined) {
    network = profile.network_policy
    networkSource = teamSource
  }
  ledger.decide("network_policy", network, networkSource, networkSource === "org.defaults" ? "org default (defaults.network_policy)" : `set by team '${team}' (overrides the org default)`)

  const safetyNet: SafetyNet = { ...SAFETY_NET_DEFAULTS, ...org.security?.safety_net }
  ledger.decide("safety_net", safetyNet, "org.security", "set by security.safety_net (teams and projects cannot change it)")

  return { session: { timeout_hours: timeout, auto_resume: autoResume }, network_policy: network, safety_net: safetyNet }
}

export function chooseImage(state: MergeState, cliImage: string | undefined): string | null {
  const { org, team, profile, project, ledger } = state
  const requests: { raw: string | undefined; source: Source; what: string }[] = [
    { raw: cliImage, source: "cli", what: "--image" },
    { raw: project?.sandbox?.image, source: "project", what: "the project's .scc.yaml (sandbox.image)" },
    { raw: profile?.sandbox?.image, source: `team.${team}`, what: `team '${team}' (sandbox.image)` },
    { raw: org.defaults?.sandbox?.image, source: "org.defaults", what: "org defaults (defaults.sandbox.image)" },
  ]
  const blocked = new PatternSet(org.security?.blocked_base_images ?? [], imagePattern)
  let refused = 0
  for (const r of requests) {
    if (r.raw === undefined || r.raw.trim() === "") continue
    const ref = imageRef(r.raw)
    const folded = imagePolicyForms(r.raw)
    const denial = r.source === "project" ? state.projectDenial : undefined
    const lifted = ledger.admit({ item: ref, type: "image", folded }, r.source, blocked.first(folded), denial)
    if (lifted === null) {
      refused++
      continue
    }
    const fallback = refused > 0 ? `; ${refused} image(s) asked for by higher layers were refused (see blocked/denied)` : ""
    ledger.decide("image", ref, r.source, `chosen by ${r.what}${fallback}${liftedNote(lifted)}`)
    return ref
  }
  ledger.decide("image", null, "org.defaults", refused > 0 ? "every image asked for was refused (see blocked/denied)" : "no layer sets sandbox.image")
  return null
}
