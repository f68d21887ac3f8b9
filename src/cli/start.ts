import { command } from "./common"
import { settleBranch } from "./start-branch"
import { renderPlan } from "./start-view"
import { isAppError } from "../errors"
import { projectName } from "../git/root"
import { renderExplain } from "../governance/render"
import { resolveToken } from "../org/auth"
import { writeErr } from "../output"
import { connect } from "../sandbox/engine"
import { planLaunch, planView, sessionsRoot } from "../sandbox/plan"
import { runSession } from "../sandbox/session"
import { governedConfig, launchPlan } from "../sandbox/start"
import { resolveWorkspace } from "../sandbox/workspace"
import { recordSessionEnd, recordSessionStart } from "../stats/record"

// `scc start [WORKSPACE]`: resolve the workspace, settle the branch, compute
// the effective config with the same function as `config explain`, refuse
// anything blocked (exit 6), then launch (or print the plan with --dry-run).

export default command({
  meta: { name: "start", description: "Start Claude Code in a governed container for a workspace (attaches to its running container if there is one)" },
  args: {
    workspace: { type: "positional", required: false, description: "Workspace directory (default: the current directory's repository)" },
    image: { type: "string", description: "Container image (checked against the org's blocked_base_images)" },
    team: { type: "string", description: "Launch as this team instead of yours" },
    branch: { type: "string", description: "On a protected branch: create and switch to this work branch" },
    "allow-protected": { type: "boolean", description: "Stay on a protected branch" },
    "allow-suspicious-workspace": { type: "boolean", description: "Allow a system, temp or home directory as the workspace" },
    fresh: { type: "boolean", description: "Replace this workspace's container instead of reusing it" },
    detach: { type: "boolean", description: "Leave the container running and print its name; no interactive session" },
    "dry-run": { type: "boolean", description: "Print the launch plan and change nothing (no engine needed)" },
    offline: { type: "boolean", description: "Use the cached org config only" },
  },
  async run(ctx, args) {
    const dryRun = Boolean(args["dry-run"])
    // Load dockerode and reach the engine while the config is computed; its
    // failure (exit 5) only counts once governance has had its say (exit 6 first).
    const engine = dryRun ? undefined : connect()
    engine?.catch(() => {})
    const notes: string[] = []
    let ws = resolveWorkspace(args.workspace, { allowSuspicious: args["allow-suspicious-workspace"] })
    ws = await settleBranch(ctx, ws, { branch: args.branch, allowProtected: Boolean(args["allow-protected"]), dryRun }, notes)
    const { explained: x, org } = await governedConfig({ workspace: ws.path, team: args.team, offline: args.offline, image: args.image })
    for (const w of x.warnings) ctx.warn(w)
    for (const d of x.denied) ctx.warn(`not added: ${d.item} (${d.target_type}): ${d.reason}`)

    if (dryRun) {
      const view = planView(planLaunch({ config: x, workspace: ws, imageFlag: args.image, sessionsRoot: sessionsRoot() }))
      const { warnings: _, ...effective } = x
      ctx.emit("LaunchPlan", { ...view, notes, effective }, () => renderPlan(view, notes, renderExplain(x)))
      return
    }

    const docker = await engine
    const notify = (m: string) => (ctx.json ? ctx.log.info(m) : writeErr(m))
    const stats = recordSessionStart(
      { project: projectName(ws.path), team: x.team, branch: ws.branch, expectedHours: x.effective.session.timeout_hours },
      { policy: org.stats, orgId: org.organization.id ?? org.organization.name },
    )
    const plan = planLaunch({ config: x, workspace: ws, imageFlag: args.image, sessionsRoot: sessionsRoot(), session: stats.id })
    let launched
    try {
      launched = await launchPlan(plan, { docker, fresh: args.fresh, resolveSecret: (spec) => resolveToken(spec), notify })
    } catch (e) {
      recordSessionEnd(stats, { exitCode: isAppError(e) ? e.exitCode : 1 })
      throw e
    }
    if (args.detach) {
      ctx.emit("Launched", { container: launched.container, id: launched.id, action: launched.action, session: stats.id }, (d) => d.container)
      return
    }
    notify(`${launched.action} ${launched.container}`)
    let exitCode: number | null = null
    try {
      exitCode = await runSession(launched.docker, launched.id, { command: plan.command, workdir: plan.workspace })
    } finally {
      recordSessionEnd(stats, { exitCode })
    }
    if (ctx.json) ctx.emit("SessionEnded", { container: launched.container, session: stats.id, exitCode }, () => undefined)
    process.exitCode = exitCode
  },
})
