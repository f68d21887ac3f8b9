import type { Evaluation } from "./ope"
import type { RlStatus } from "./service"

// One-line and table renderings of the routing status, shared by `cca rl`
// and the MCP tools (type-only imports: nothing heavy loads).

const num = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? "n/a" : x.toFixed(d))

export function statusLine(s: RlStatus): string {
  const model = s.model?.version ? `model v${s.model.version}` : "no saved model"
  return `routing: ${s.algorithm}, ${s.experiences.rewarded} rewarded decisions; mean reward of the last ${s.recent.policy.n} learned decisions ${num(s.recent.policy.mean)} vs ${s.recent.heuristic.n} heuristic ${num(s.recent.heuristic.mean)}; ε ${s.epsilon}; ${model}`
}

export function evaluationLines(e: Evaluation | null): string[] {
  if (!e) return ["off-policy estimates: none yet (`cca rl evaluate`, after some decisions)"]
  const lines = [`off-policy estimates (trained on ${e.trainedOn} older decisions, scored on ${e.evaluatedOn} newer; logged mean reward ${num(e.logged)}):`]
  lines.push(`  ${"policy".padEnd(11)} ${"IPS".padStart(7)} ${"SNIPS".padStart(7)} ${"DR".padStart(7)} ${"support".padStart(8)} ${"ESS".padStart(6)}`)
  for (const [name, x] of Object.entries(e.policies)) {
    lines.push(`  ${name.padEnd(11)} ${num(x.ips).padStart(7)} ${num(x.snips).padStart(7)} ${num(x.dr).padStart(7)} ${`${Math.round(x.support * 100)}%`.padStart(8)} ${String(x.ess).padStart(6)}`)
  }
  return lines
}

export function statusText(s: RlStatus): string {
  const lines = [
    `algorithm      ${s.algorithm}${s.enabled ? "" : " (learning.enabled = false)"}`,
    `decisions      ${s.experiences.rewarded} rewarded (${s.experiences.current} of state v${s.stateVersion}); ${s.learnedSinceStart} learned since start`,
    `mean reward    last ${s.recent.policy.n} learned: ${num(s.recent.policy.mean)}   last ${s.recent.heuristic.n} heuristic: ${num(s.recent.heuristic.mean)}`,
    `exploration    ε ${s.epsilon}`,
    `model          ${s.model ? `${s.model.version ? `v${s.model.version}` : "not saved yet"}, ${s.model.updates} updates, last loss ${num(s.lastLoss, 4)}` : "none (heuristic)"}`,
    `text features  ${s.textSpace}`,
    ...evaluationLines(s.evaluation),
  ]
  return lines.join("\n")
}
