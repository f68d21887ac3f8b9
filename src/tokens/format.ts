import type { Analysis } from "./analyze"
import type { CompressResult } from "./compress"
import type { Metrics, Recommendation } from "./metrics"

// One-line summaries and human text of the tokens answers, shared by the CLI
// and the MCP tools. Imports types only.

const n = (x: number) => Math.round(x).toLocaleString("en-US")
const pct = (x: number) => `${(x * 100).toFixed(1)}%`

export function analysisLine(a: Analysis): string {
  const kinds = Object.entries(a.by_kind).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${n(v)}`).join(", ")
  const best = [...a.strategies].sort((x, y) => y.tokens_saved - x.tokens_saved)[0]
  return `~${n(a.tokens)} tokens (${kinds}); lossless compression saves ${pct(a.lossless.reduction)}${best && best.tokens_saved > 0 ? `; most: ${best.strategy} ${pct(best.reduction)}${best.lossy ? " (lossy)" : ""}` : ""}`
}

export function analysisText(a: Analysis): string {
  const lines = [analysisLine(a), "", "strategy        saves    lossy  what"]
  for (const s of a.strategies) lines.push(`${s.strategy.padEnd(15)} ${pct(s.reduction).padStart(6)}   ${s.lossy ? "yes  " : "no   "}  ${s.cut.join("; ") || (s.notes ?? []).join("; ") || "-"}`)
  const f = a.findings
  lines.push("", `repeated lines ${n(f.repeated_lines.count)} (~${n(f.repeated_lines.tokens)} tokens), repeated blocks ${n(f.repeated_blocks.count)}, comments ${pct(f.comments.share)} of all tokens, long lines ${n(f.long_lines.count)}, blobs ${f.blobs.length}`)
  return lines.join("\n")
}

export function compressLine(r: CompressResult): string {
  const used = r.strategies.filter((s) => s.tokens_saved !== 0).map((s) => `${s.strategy}${s.lossy ? " (lossy)" : ""} -${n(s.tokens_saved)}`)
  return `${n(r.tokens_before)} -> ${n(r.tokens_after)} tokens (-${pct(r.reduction)})${used.length ? `: ${used.join(", ")}` : ": nothing to remove"}${r.goal.goal_tokens !== undefined ? (r.goal.met ? "; goal met" : `; goal of ${n(r.goal.goal_tokens)} not met`) : ""}`
}

export function metricsLine(m: Metrics): string {
  const t = m.totals
  const saved = Object.values(m.savings_by_strategy).reduce((a, s) => a + s.tokens_saved, 0)
  const err = m.estimator.error
  return `${n(t.tasks)} tasks in ${m.days} days: ${n(t.input_tokens)} in, ${n(t.output_tokens)} out, ${n(t.cache_read_tokens)} cache reads, $${t.cost_usd.toFixed(4)}; cache hit ${pct(t.cache_hit_rate)}; compression saved ${n(saved)} tokens; estimator ${err ? `off by ${pct(err.median)} (median, ${err.samples} turns)` : "not calibrated yet"}`
}

export function metricsText(m: Metrics): string {
  const lines = [metricsLine(m), "", "role            tasks      input     output   cache hit      cost"]
  for (const r of m.by_role) lines.push(`${r.role.padEnd(15)} ${n(r.tasks).padStart(5)} ${n(r.input_tokens).padStart(10)} ${n(r.output_tokens).padStart(10)} ${pct(r.cache_hit_rate).padStart(11)} ${`$${r.cost_usd.toFixed(4)}`.padStart(9)}`)
  const s = Object.entries(m.savings_by_strategy)
  if (s.length) lines.push("", ...s.map(([k, v]) => `saved by ${k}: ${n(v.tokens_saved)} tokens in ${n(v.uses)} uses${v.lossy ? " (lossy)" : ""}`))
  return lines.join("\n")
}

export function recommendationsLine(r: { recommendations: Recommendation[]; based_on: { tasks: number } }): string {
  if (r.recommendations.length === 0) return `no recommendations from ${n(r.based_on.tasks)} recorded tasks`
  return `${r.recommendations.length} recommendation(s); first: ${r.recommendations[0]!.title} (could save ~${n(r.recommendations[0]!.possible_saving_tokens)} tokens)`
}

export function recommendationsText(r: { recommendations: Recommendation[]; based_on: { tasks: number } }): string {
  return [recommendationsLine(r), ...r.recommendations.map((x) => `\n- ${x.title}\n  evidence: ${x.evidence}\n  possible saving: ~${n(x.possible_saving_tokens)} tokens\n  do: ${x.action}`)].join("\n")
}
