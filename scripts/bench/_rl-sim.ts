import { classify } from "../../src/orchestrator/classify"
import { ACTION_ROLES, ACTIONS, encodeState, type PoolView, type TaskView } from "../../src/orchestrator/features"
import { baselineOf, budgetTokens, reward } from "../../src/orchestrator/reward"
import { RoleStats } from "../../src/orchestrator/role-stats"
import { complexity, lexicalVector, LEXICAL_SPACE } from "../../src/orchestrator/task-text"
import { choose } from "../../src/rl/chooser"
import { Rng } from "../../src/rl/rng"
import type { Params, Policy } from "../../src/rl/types"
import { FAMILIES, type Truth } from "./_rl-families"

// A simulator of the daemon's routing problem. Each episode is one task of a
// random family (text from its templates), with one agent of each role
// (now and then one role has no agent and no room: it is not eligible). The
// outcome is drawn from the family's hidden truth for the chosen role; the
// reward is the daemon's own (reward.ts, with each role's running median as
// the duration baseline), and the role's record (role-stats.ts) and the
// encoded state are built exactly as the daemon builds them. From episode
// `driftAt` one role degrades. Outcomes are drawn once per (episode, role),
// so every router in a run faces the same tasks and the same luck.

export type Router =
  | { kind: "policy"; name: string; policy: Policy }
  | { kind: "heuristic" | "random" | "oracle"; name: string }
  /** A reference, not a router the daemon could run: told each task's family, a UCB per (family, role) over the rewards, with the same ε. */
  | { kind: "family-ucb"; name: string }

export type Episode = { reward: number; completed: boolean; best: boolean; action: number; eligibleViolation: boolean; deferred: boolean }

export type World = {
  episodes: number
  driftAt: number
  /** The role that degrades, and the factor on its success probability. */
  driftRole: number
  driftFactor: number
  seed: number
}

type Drawn = { family: number; text: string; unavailable: number; u: Float64Array; tokens: Float64Array; duration: Float64Array }

const TOKEN_BUDGET = 50_000
const BASELINE_MS = 60_000

function fillTemplate(template: string, fill: Record<string, string[]>, rng: Rng): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => {
    const opts = fill[k] ?? [k]
    return opts[rng.int(opts.length)]!
  })
}

export function draw(w: World): Drawn[] {
  const rng = new Rng(w.seed)
  return Array.from({ length: w.episodes }, () => {
    const family = rng.int(FAMILIES.length)
    const f = FAMILIES[family]!
    const text = fillTemplate(f.templates[rng.int(f.templates.length)]!, f.fill, rng)
    const unavailable = rng.next() < 0.1 ? rng.int(ACTION_ROLES.length) : -1
    const u = Float64Array.from({ length: ACTION_ROLES.length }, () => rng.next())
    const tokens = Float64Array.from({ length: ACTION_ROLES.length }, () => Math.exp(0.3 * rng.normal()))
    const duration = Float64Array.from({ length: ACTION_ROLES.length }, () => Math.exp(0.4 * rng.normal()))
    return { family, text, unavailable, u, tokens, duration }
  })
}

export function truth(w: World, episode: number, family: number, role: number): Truth {
  const t = FAMILIES[family]!.roles[role]!
  return episode >= w.driftAt && role === w.driftRole ? { ...t, p: t.p * w.driftFactor } : t
}

/** Hidden expected reward (the coin flip of "faster than the role's median" counted as one half). */
export function expected(t: Truth): number {
  const under = t.tokensK * 1000 * Math.exp(0.045) <= TOKEN_BUDGET ? 1 : 0 // lognormal mean vs the budget, to first order
  return t.p * (1 + 0.2 * under + 0.1 * 0.5) - 0.5 * (1 - t.p)
}

/** The text vector of a task's description and its space (the daemon's: hashed words, or a semantic embedder's projection). */
export type TextOf = (text: string) => { v: number[]; space: string }
export const lexicalText: TextOf = (text) => ({ v: lexicalVector(text), space: LEXICAL_SPACE })

export function run(router: Router, w: World, drawn: Drawn[], params: Params, seed: number, textOf: TextOf = lexicalText): Episode[] {
  const rng = new Rng(seed)
  const stats = new RoleStats()
  const durations = new Map<number, number[]>()
  const lastUsed = new Map<number, number>()
  const out: Episode[] = []
  const fam = { n: new Float64Array(FAMILIES.length * ACTIONS), s: new Float64Array(FAMILIES.length * ACTIONS) }
  drawn.forEach((d, e) => {
    const eligible = Array.from({ length: ACTIONS }, (_, a) => a < ACTION_ROLES.length && a !== d.unavailable)
    const decision = classify({ description: d.text })
    const idle: Record<string, number> = {}
    ACTION_ROLES.forEach((r, a) => eligible[a] && (idle[r] = 1))
    const pool: PoolView = { idle, busy: {}, agents: Object.keys(idle).length, maxAgents: 8, canSpawn: false, pending: 1, maxDepth: 3, spawnable: {}, roles: stats.view() }
    const text = textOf(d.text)
    const view: TaskView = { role: decision.role, scores: decision.scores, coordinate: decision.coordinate, promptChars: d.text.length, depth: 0, priority: 0, attempt: 0, maxAttempts: 3, text: text.v, textSpace: text.space, complexity: complexity(d.text) }
    const state = encodeState(view, pool)
    const x = Float32Array.from(state.features)
    // The heuristic: the content role when it has an agent, else the agent idle longest.
    const content = decision.role ? ACTION_ROLES.indexOf(decision.role as (typeof ACTION_ROLES)[number]) : -1
    let heuristic = content >= 0 && eligible[content] ? content : -1
    if (heuristic < 0) {
      let bestAt = Infinity
      for (let a = 0; a < ACTION_ROLES.length; a++) if (eligible[a] && (lastUsed.get(a) ?? -1) < bestAt) (bestAt = lastUsed.get(a) ?? -1), (heuristic = a)
    }
    const values = ACTION_ROLES.map((_, a) => (eligible[a] ? expected(truth(w, e, d.family, a)) : -Infinity))
    const oracle = values.indexOf(Math.max(...values))
    let action: number
    let propensity = 1
    let deferred = false
    if (router.kind === "heuristic") action = heuristic
    else if (router.kind === "oracle") action = oracle
    else if (router.kind === "random") {
      const opts = eligible.flatMap((ok, a) => (ok ? [a] : []))
      action = opts[rng.int(opts.length)]!
      propensity = 1 / opts.length
    } else if (router.kind === "family-ucb") {
      const opts = eligible.flatMap((ok, a) => (ok ? [a] : []))
      const o = d.family * ACTIONS
      const tried = opts.reduce((t, a) => t + fam.n[o + a]!, 0)
      const ucb = (a: number) => (fam.n[o + a]! < 1e-9 ? Infinity : fam.s[o + a]! / fam.n[o + a]! + 0.2 * Math.sqrt(Math.log(1 + tried) / fam.n[o + a]!))
      const greedy = opts.reduce((b, a) => (ucb(a) > ucb(b) ? a : b), opts[0]!)
      action = rng.next() < params.epsilon ? opts[rng.int(opts.length)]! : greedy
      propensity = action === greedy ? 1 - params.epsilon + params.epsilon / opts.length : params.epsilon / opts.length
    } else if (router.kind === "policy") {
      const c = choose(router.policy, x, eligible, heuristic, params, rng)!
      action = c.action
      propensity = c.propensity
      deferred = c.decidedBy === "heuristic"
    } else throw new Error("unknown router")
    lastUsed.set(action, e)
    const violation = !eligible[action]
    const t = truth(w, e, d.family, action)
    const completed = d.u[action]! < t.p
    const usage = { inputTokens: Math.round(t.tokensK * 1000 * d.tokens[action]!), outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 }
    const durationMs = t.durationS * 1000 * d.duration[action]!
    const history = durations.get(action) ?? []
    const r = reward({ end: completed ? "completed" : "failed", usage, durationMs, tokenBudget: TOKEN_BUDGET, baseline: baselineOf(history, BASELINE_MS) })
    if (completed) durations.set(action, [durationMs, ...history].slice(0, 50))
    stats.add(ACTION_ROLES[action]!, { completed, durationMs, tokens: budgetTokens(usage) })
    if (router.kind === "family-ucb") (fam.n[d.family * ACTIONS + action]! += 1), (fam.s[d.family * ACTIONS + action]! += r.reward)
    if (router.kind === "policy") router.policy.observe({ x, action, reward: r.reward, next: null, done: true, eligible, propensity })
    out.push({ reward: r.reward, completed, best: action === oracle, action, eligibleViolation: violation, deferred })
  })
  return out
}
