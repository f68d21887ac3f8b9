import type { Logger } from "../log"
import { PromptRejected, type PromptContext, type PromptStage, type StageResult } from "../orchestrator/stages"
import type { Task } from "../store/task-types"
import { compress, type StrategyName } from "./compress"
import { charsByKind } from "./estimate"
import type { TokenService } from "./service"

// The token budget of real work: the last prompt stage, so it counts what the
// agent is really sent (the description or prompt, the memory block, the
// summary of an earlier attempt, any context a stage added). Under budget:
// nothing changes, and the characters per kind that were sent are noted
// (they calibrate the estimator against the usage the task reports). Over
// budget: compressed by policy (lossless strategies first, then lossy ones
// under `auto`), the saving recorded per strategy (token_savings) and on the
// task (metadata.prompt.tokens and its `accepted` event). A prompt that
// still does not fit fails the task with an error naming budget and size:
// never sent over budget.
//
// The learned router may choose a budget tier for the attempt (its composite
// action, src/rl/budget-tier.ts: `routing.budget.multiple` × the configured
// budget, never over max_context_tokens). The stage tries that tier first;
// a prompt that cannot be fitted to it is fitted to the configured budget as
// if no tier had been chosen, so an exploratory tier never fails a task.

export type BudgetPolicy = {
  /** agents.token_budget_per_task (0: none). */
  perTask: number
  /** agents.token_budget_roles. */
  perRole: Readonly<Record<string, number>>
  /** tokens.compression. */
  compression: "auto" | "lossless" | "off"
  /** tokens.max_context_tokens: the ceiling whatever the budget. */
  maxContextTokens: number
  /** tokens.warn_ratio: warn when a prompt takes this share of max_context_tokens. */
  warnRatio: number
}

export const LOSSLESS_STRATEGIES: readonly StrategyName[] = ["deduplicate", "code_comments", "whitespace"]
export const ALL_STRATEGIES: readonly StrategyName[] = [...LOSSLESS_STRATEGIES, "summarize", "history"]

/** The budget of a task's prompt, and where it comes from. */
export function budgetOf(task: Pick<Task, "role">, p: BudgetPolicy): { tokens: number; from: string } {
  const role = task.role ? p.perRole[task.role] : undefined
  const set = role !== undefined ? { tokens: role, from: `agents.token_budget_roles.${task.role}` } : p.perTask > 0 ? { tokens: p.perTask, from: "agents.token_budget_per_task" } : undefined
  if (set && set.tokens <= p.maxContextTokens) return set
  return { tokens: p.maxContextTokens, from: "tokens.max_context_tokens" }
}

/** The budget tier the router chose for this attempt, when it chose one other than the configured budget. */
export function tierOf(routing: Readonly<Record<string, unknown>> | undefined, configured: { tokens: number }, p: BudgetPolicy): { name: string; multiple: number; tokens: number } | undefined {
  const b = routing?.budget as { tier?: unknown; multiple?: unknown } | undefined
  const multiple = Number(b?.multiple)
  if (!b || !Number.isFinite(multiple) || multiple <= 0 || multiple === 1) return undefined
  const tokens = Math.min(p.maxContextTokens, Math.max(1, Math.round(configured.tokens * multiple)))
  return tokens === configured.tokens ? undefined : { name: String(b.tier), multiple, tokens }
}

export class TokenBudgetStage implements PromptStage {
  readonly name = "tokens"

  constructor(
    private readonly tokens: TokenService,
    private readonly policy: BudgetPolicy,
    private readonly log?: Logger,
  ) {}

  async prepare(ctx: PromptContext): Promise<StageResult> {
    const { task, prompt } = ctx
    const est = await this.tokens.estimator()
    const configured = budgetOf(task, this.policy)
    const estimated = est.fromChars(charsByKind(prompt))
    if (estimated >= this.policy.warnRatio * this.policy.maxContextTokens)
      this.log?.warn(`task ${task.id}: its prompt is ~${estimated} tokens, ${Math.round((100 * estimated) / this.policy.maxContextTokens)}% of tokens.max_context_tokens (${this.policy.maxContextTokens})`)
    const tier = tierOf(ctx.routing, configured, this.policy)
    if (tier) {
      const fitted = await this.fit(ctx, est, { tokens: tier.tokens, from: `routing.budget.${tier.name}` }).catch((e: unknown) => {
        if (e instanceof PromptRejected) return null
        throw e
      })
      const note = { tier: tier.name, multiple: tier.multiple, tokens: tier.tokens }
      if (fitted) return { ...fitted, note: { ...fitted.note, tier: note } }
      const r = await this.fit(ctx, est, configured)
      return { ...r, note: { ...r.note, tier: { ...note, fell_back: true } } }
    }
    return this.fit(ctx, est, configured)
  }

  /** Fit the prompt to `budget`: as it is, or compressed by policy; PromptRejected when it cannot. */
  private async fit({ task, agent, prompt }: PromptContext, est: Awaited<ReturnType<TokenService["estimator"]>>, budget: { tokens: number; from: string }): Promise<StageResult> {
    const chars = charsByKind(prompt)
    const estimated = est.fromChars(chars)
    const base = { budget: budget.tokens, budget_from: budget.from, estimated, calibrated_on: est.calibration.samples }
    if (estimated <= budget.tokens) return { prompt, note: { ...base, sent_chars: chars } }

    const over = (after: number, tried: readonly string[]) =>
      new PromptRejected(
        "token_budget_exceeded",
        `task ${task.id}: its prompt is ~${estimated.toLocaleString("en-US")} tokens${tried.length ? ` (~${after.toLocaleString("en-US")} after ${tried.join(", ")})` : ""}, over its budget of ${budget.tokens.toLocaleString("en-US")} tokens (${budget.from})`,
        this.policy.compression === "auto" ? `shorten the task, or raise ${budget.from}` : `shorten the task, raise ${budget.from}, or set tokens.compression = "auto" to allow lossy compression`,
        { budget_tokens: budget.tokens, budget_from: budget.from, estimated_tokens: estimated, compressed_tokens: after, strategies: tried, compression: this.policy.compression },
      )
    if (this.policy.compression === "off") throw over(estimated, [])
    const strategies = this.policy.compression === "auto" ? ALL_STRATEGIES : LOSSLESS_STRATEGIES
    const r = await compress(prompt, est, { strategies, budgetTokens: budget.tokens })
    const used = r.strategies.filter((s) => s.tokens_saved !== 0)
    if (!r.goal.met) throw over(r.tokens_after, r.strategies.map((s) => s.strategy))
    await this.tokens.record(r, { source: "prompt_stage", taskId: task.id, agentId: agent.id, role: task.role })
    return {
      prompt: r.content,
      note: {
        ...base,
        compressed: true,
        estimated_after: r.tokens_after,
        saved: r.tokens_saved,
        lossy: r.lossy,
        strategies: used.map((s) => ({ strategy: s.strategy, lossy: s.lossy, saved: s.tokens_saved, cut: s.cut })),
        sent_chars: charsByKind(r.content),
      },
    }
  }
}

type BudgetConfig = { agents: { token_budget_per_task: number; token_budget_roles: Record<string, number> }; tokens: { compression: BudgetPolicy["compression"]; max_context_tokens: number; warn_ratio: number } }

/** A budget is set (for every task, or for a role): only then does the daemon run the stage. */
export function budgeted(c: BudgetConfig): boolean {
  return c.agents.token_budget_per_task > 0 || Object.keys(c.agents.token_budget_roles).length > 0
}

export function budgetPolicy(c: BudgetConfig): BudgetPolicy {
  return { perTask: c.agents.token_budget_per_task, perRole: { ...c.agents.token_budget_roles }, compression: c.tokens.compression, maxContextTokens: c.tokens.max_context_tokens, warnRatio: c.tokens.warn_ratio }
}
