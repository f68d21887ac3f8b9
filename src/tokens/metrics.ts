import type { Queryable } from "../store/sql"
import { charsByKind, median, type Estimator } from "./estimate"

// Usage as Claude Code reported it (the tasks' token columns, summed over
// attempts), grouped per agent, role, task family and day, with what
// compression saved (token_savings) and how far the estimator is off.
// Recommendations are read off the same figures, each with its evidence.

export type MetricsQuery = { days?: number }

/** A task's family: what kind of work its description asks for, by its leading verb. */
const FAMILIES: [string, RegExp][] = [
  ["fix", /^\W*(fix|debug|repair|resolve|investigate)\b/i],
  ["add", /^\W*(add|implement|create|build|write|make|introduce)\b/i],
  ["refactor", /^\W*(refactor|clean|rename|move|extract|simplify)\b/i],
  ["test", /^\W*(test|verify|check|cover)\b/i],
  ["review", /^\W*(review|audit|analy[sz]e|explain|assess)\b/i],
  ["docs", /^\W*(document|docs?|describe|summari[sz]e)\b/i],
]
export function taskFamily(description: string): string {
  const d = description.replace(/^[\w-]+:\s*/, "") // "ui: add ..." -> "add ..."
  return FAMILIES.find(([, re]) => re.test(d))?.[0] ?? "other"
}

type Totals = { tasks: number; input_tokens: number; output_tokens: number; cache_read_tokens: number; cache_creation_tokens: number; cost_usd: number; cache_hit_rate: number }
const empty = (): Totals => ({ tasks: 0, input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_creation_tokens: 0, cost_usd: 0, cache_hit_rate: 0 })

function add(t: Totals, r: Record<string, unknown>): void {
  t.tasks++
  t.input_tokens += Number(r.input_tokens)
  t.output_tokens += Number(r.output_tokens)
  t.cache_read_tokens += Number(r.cache_read_tokens)
  t.cache_creation_tokens += Number(r.cache_creation_tokens)
  t.cost_usd += Number(r.cost_usd)
}
function finish(t: Totals): Totals {
  const inAll = t.input_tokens + t.cache_read_tokens + t.cache_creation_tokens
  t.cache_hit_rate = inAll > 0 ? t.cache_read_tokens / inAll : 0
  t.cost_usd = Math.round(t.cost_usd * 1e6) / 1e6
  return t
}

export async function metrics(db: Queryable, est: Estimator, q: MetricsQuery, now: Date) {
  const days = q.days ?? 30
  const since = new Date(now.getTime() - days * 86_400_000)
  const rows = await db.query<Record<string, unknown>>(
    `SELECT agent_id, role, description, coalesce(prompt, description) AS prompt, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd, finished_at
       FROM tasks WHERE finished_at >= $1 ORDER BY finished_at LIMIT 20000`,
    [since],
  )
  const total = empty()
  const groups = { agent: new Map<string, Totals>(), role: new Map<string, Totals>(), family: new Map<string, Totals>(), day: new Map<string, Totals>() }
  const promptKinds = { prose: 0, code: 0, json: 0, logs: 0 }
  for (const r of rows) {
    add(total, r)
    const keys = { agent: String(r.agent_id ?? "(none)"), role: String(r.role ?? "(unrouted)"), family: taskFamily(String(r.description)), day: new Date(r.finished_at as string).toISOString().slice(0, 10) }
    for (const g of ["agent", "role", "family", "day"] as const) {
      let t = groups[g].get(keys[g])
      if (!t) groups[g].set(keys[g], (t = empty()))
      add(t, r)
    }
    const k = charsByKind(String(r.prompt).slice(0, 50_000))
    for (const kind of ["prose", "code", "json", "logs"] as const) promptKinds[kind] += k[kind]
  }
  const list = <K extends string>(m: Map<string, Totals>, key: K) => [...m.entries()].map(([k, t]) => ({ [key]: k, ...finish(t) }) as { [P in K]: string } & Totals)
  const savingsRows = await db.query<Record<string, unknown>>(
    `SELECT strategy, bool_or(lossy) AS lossy, source, count(*) AS uses, sum(tokens_before - tokens_after) AS saved, sum(tokens_before) AS before
       FROM token_savings WHERE created_at >= $1 GROUP BY strategy, source`,
    [since],
  )
  const savings: Record<string, { tokens_saved: number; uses: number; lossy: boolean; by_source: Record<string, number>; share: number }> = {}
  for (const s of savingsRows) {
    const name = String(s.strategy)
    const cur = (savings[name] ??= { tokens_saved: 0, uses: 0, lossy: Boolean(s.lossy), by_source: {}, share: 0 })
    cur.tokens_saved += Number(s.saved)
    cur.uses += Number(s.uses)
    cur.by_source[String(s.source)] = Number(s.saved)
    cur.share = Number(s.before) > 0 ? cur.tokens_saved / Number(s.before) : 0
  }
  const allChars = promptKinds.prose + promptKinds.code + promptKinds.json + promptKinds.logs
  return {
    since: since.toISOString(),
    days,
    totals: finish(total),
    by_agent: list(groups.agent, "agent"),
    by_role: list(groups.role, "role"),
    by_family: list(groups.family, "family"),
    by_day: list(groups.day, "day").sort((a, b) => a.day.localeCompare(b.day)),
    savings_by_strategy: savings,
    prompt_mix: Object.fromEntries(Object.entries(promptKinds).map(([k, v]) => [k, allChars > 0 ? v / allChars : 0])),
    estimator: { model: est.calibration.model, samples: est.calibration.samples, error: est.calibration.error, chars_per_token: est.calibration.charsPerToken, overhead: est.calibration.overhead, calibrated_at: est.calibration.calibratedAt },
  }
}

export type Metrics = Awaited<ReturnType<typeof metrics>>

export type Recommendation = { id: string; title: string; evidence: string; possible_saving_tokens: number; action: string }

export function recommendations(m: Metrics): { recommendations: Recommendation[]; based_on: { tasks: number; days: number } } {
  const out: Recommendation[] = []
  const tokensOf = (t: Totals) => t.input_tokens + t.cache_read_tokens + t.cache_creation_tokens + t.output_tokens
  for (const r of m.by_role) {
    const inAll = r.input_tokens + r.cache_read_tokens + r.cache_creation_tokens
    if (r.tasks >= 3 && inAll > 0 && r.cache_hit_rate < 0.3) {
      const couldBeRead = Math.round(inAll * (0.6 - r.cache_hit_rate))
      out.push({
        id: `low-cache-${r.role}`,
        title: `Role ${r.role} reads little from the prompt cache`,
        evidence: `${Math.round(r.cache_hit_rate * 100)}% of its ${inAll.toLocaleString("en-US")} input tokens over ${r.tasks} tasks were cache reads`,
        possible_saving_tokens: Math.round(couldBeRead * 0.9),
        action: "keep the stable part of its prompts (role prompt, shared context) first and identical across tasks; reuse its agents instead of spawning new ones",
      })
    }
  }
  const perTask = m.by_family.filter((f) => f.tasks > 0).map((f) => ({ f, mean: tokensOf(f) / f.tasks }))
  const med = median(perTask.map((p) => p.mean))
  for (const { f, mean } of perTask) {
    if (perTask.length >= 2 && f.tasks >= 2 && mean >= 3 * med) {
      out.push({
        id: `family-${f.family}`,
        title: `Tasks of family "${f.family}" cost ${(mean / med).toFixed(1)}× the median family`,
        evidence: `${f.tasks} tasks at ${Math.round(mean).toLocaleString("en-US")} tokens each; the median family uses ${Math.round(med).toLocaleString("en-US")}`,
        possible_saving_tokens: Math.round((mean - med) * f.tasks * 0.5),
        action: "give these tasks a token budget (agents.token_budget_per_task or per role) so their prompts are compressed, or split them",
      })
    }
  }
  const logs = (m.prompt_mix.logs ?? 0) + (m.prompt_mix.json ?? 0)
  if (m.totals.tasks >= 3 && logs >= 0.4) {
    out.push({
      id: "tool-output",
      title: "Prompts are dominated by logs and tool output",
      evidence: `${Math.round(logs * 100)}% of the prompt text of ${m.totals.tasks} tasks is logs or JSON`,
      possible_saving_tokens: Math.round(m.totals.input_tokens * logs * 0.5),
      action: "let the token budget stage summarize long output (head and tail with a count of what was cut), or send only the failing part",
    })
  }
  const err = m.estimator.error
  if (err && err.median > 0.1) {
    out.push({
      id: "estimator-error",
      title: "The token estimate is more than 10% off",
      evidence: `median error ${(err.median * 100).toFixed(1)}% over ${err.samples} recorded turns${err.heldOut ? " (held out)" : " (in sample)"}`,
      possible_saving_tokens: 0,
      action: "budgets act on estimates: leave headroom in agents.token_budget_per_task until more single-turn tasks are recorded",
    })
  }
  return { recommendations: out.sort((a, b) => b.possible_saving_tokens - a.possible_saving_tokens), based_on: { tasks: m.totals.tasks, days: m.days } }
}
