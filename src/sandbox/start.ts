import type Docker from "dockerode"
import { BlockedError } from "../errors"
import { explainFrom, loadExplainInputs, type Explained, type ExplainOptions } from "../governance/explain"
import { explainField, renderField } from "../governance/render"
import type { EffectiveConfig } from "../governance/types"
import type { OrgConfig } from "../org/schema"
import { connect } from "./engine"
import { ensureContainer, type LaunchOptions, type LaunchResult } from "./launch"
import { DEFAULT_IMAGE, type LaunchPlan } from "./plan"

// The governed launch as domain functions: the CLI's `start` calls them, and
// so will anything else that starts a sandbox (daemon agents). The effective
// config is computed by the one governance function `config explain` uses;
// anything it blocks ends the launch before the engine is touched.

/** The blocked items exactly as `scc config explain --field blocked` prints them. */
export const explainBlocked = (x: Explained) => renderField(explainField(x, "blocked"))

/**
 * Every blocked item a team, the project or --image asked for ends the launch
 * (exit 6), as the seed's lifecycle says; upstream launches without them, so
 * the error says that removing them, or a policy exception, lets it go ahead.
 * A blocked org default is a retroactive block (the org blocked a plugin it
 * used to enable): that item is left out, with a warning, and the session
 * starts, or one bad plugin would stop every developer. Delegation denials
 * are not fatal either: the addition is simply absent; callers warn.
 */
export function assertNotBlocked(config: EffectiveConfig, explanation: () => string): void {
  const requested = config.blocked.filter((b) => b.requested_by !== "org.defaults")
  for (const b of config.blocked)
    if (b.requested_by === "org.defaults")
      config.warnings.push(`'${b.item}' is enabled by the org defaults but blocked by security ('${b.blocked_by}'); the session starts without it`)
  if (requested.length === 0) return
  const n = requested.length
  throw new BlockedError(`the launch requests ${n} item${n === 1 ? "" : "s"} blocked by org security policy:\n${explanation()}`, {
    hint: "remove the blocked items from the request (the team profile, .scc.yaml or --image) and the launch goes ahead without them, or ask your org admin for a policy exception; scc config explain shows the whole decision",
    details: { blocked: requested },
  })
}

/**
 * The effective config for a launch: `explain()` itself, then the refusals.
 * When no layer (and no --image) picks an image the launch uses DEFAULT_IMAGE,
 * which must pass blocked_base_images too: the same function judges it (as a
 * command-line request, so exceptions apply as they would), and its verdict
 * is used for the image only, not for what explain shows. The org config
 * comes back too: the launch reads its stats policy.
 */
export async function governedConfig(opts: ExplainOptions): Promise<{ explained: Explained; org: OrgConfig }> {
  const inputs = await loadExplainInputs(opts)
  const x = explainFrom(inputs, opts.image)
  assertNotBlocked(x, () => explainBlocked(x))
  if (x.effective.image === null) {
    const y = explainFrom(inputs, DEFAULT_IMAGE)
    const blocked = y.blocked.filter((b) => b.target_type === "image")
    const only = { ...y, blocked }
    assertNotBlocked(only, () => `the default image ${DEFAULT_IMAGE} (used because no layer sets sandbox.image):\n${explainBlocked(only)}`)
  }
  return { explained: x, org: inputs.org.config }
}

export type Launched = LaunchResult & { docker: Docker }

export async function launchPlan(plan: LaunchPlan, opts: LaunchOptions & { docker?: Docker }): Promise<Launched> {
  const docker = opts.docker ?? (await connect())
  const result = await ensureContainer(docker, plan, opts)
  return { ...result, docker }
}
