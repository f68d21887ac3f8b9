import type Docker from "dockerode"
import { BlockedError } from "../errors"
import type { EffectiveConfig } from "../governance/types"
import { connect } from "./engine"
import { ensureContainer, type LaunchOptions, type LaunchResult } from "./launch"
import { planLaunch, sessionsRoot, type LaunchPlan } from "./plan"
import type { Workspace } from "./workspace"

// The governed launch as one domain function: the CLI's `start` calls it, and
// so will anything else that starts a sandbox (daemon agents). The effective
// config comes in already computed by the one governance function that
// `config explain` uses; this refuses anything it blocks, plans, and runs.

export type PrepareInput = {
  config: EffectiveConfig
  workspace: Workspace
  imageFlag?: string
  /** Renders the blocked items exactly as `config explain` does. */
  explainBlocked: (config: EffectiveConfig) => string
  sessionsRoot?: string
}

/**
 * Every blocked item was asked for by some layer (or by --image) and the
 * launch cannot honour it, so any block ends the launch (exit 6) before the
 * engine is touched. Delegation denials are not fatal: the addition is simply
 * not there, and the caller shows them as warnings.
 */
export function assertNotBlocked(config: EffectiveConfig, explainBlocked: (c: EffectiveConfig) => string): void {
  if (config.blocked.length === 0) return
  const n = config.blocked.length
  throw new BlockedError(`the launch is blocked by org security policy (${n} item${n === 1 ? "" : "s"}):\n${explainBlocked(config)}`, {
    hint: "remove the blocked items from the request (or --image), or ask your org admin for a policy exception; scc config explain shows the whole decision",
    details: { blocked: config.blocked },
  })
}

export function prepareLaunch(input: PrepareInput): LaunchPlan {
  assertNotBlocked(input.config, input.explainBlocked)
  return planLaunch({ config: input.config, workspace: input.workspace, imageFlag: input.imageFlag, sessionsRoot: input.sessionsRoot ?? sessionsRoot() })
}

export type Launched = LaunchResult & { docker: Docker }

export async function launchPlan(plan: LaunchPlan, opts: LaunchOptions & { docker?: Docker }): Promise<Launched> {
  const docker = opts.docker ?? (await connect())
  const result = await ensureContainer(docker, plan, opts)
  return { ...result, docker }
}
