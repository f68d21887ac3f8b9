import { ValidationError, PayloadTooLargeError } from "../errors"
import type { Logger } from "../log"
import type { Queryable } from "../store/sql"
import { analyze } from "./analyze"
import { compress, MAX_TARGET, STRATEGIES, LOSSY, type StrategyName, type CompressResult } from "./compress"
import { calibrate, charsByKind, Estimator, type Pair } from "./estimate"
import { CONTENT_KINDS, languageOf, type ContentKind } from "./kinds"
import { metrics, recommendations, type MetricsQuery } from "./metrics"

// The one entry of src/tokens for the routes, the CLI (through the routes)
// and MCP: input checks (a 400 naming the field), the estimator calibrated
// from this daemon's recorded usage, and what compression saved.

export const MAX_CONTENT_CHARS = 1_000_000
/** The pseudo role of pairs measured as what a session's input grew by (see pairs). */
export const TURN_ROLE = "~turn"
const RECALIBRATE_MS = 60_000

export type TokensBody = {
  content?: unknown
  kind?: unknown
  language?: unknown
  path?: unknown
  strategies?: unknown
  target_reduction?: unknown
  budget_tokens?: unknown
  keep_doc_comments?: unknown
  contexts?: unknown
  keep_recent?: unknown
}

function bad(field: string, message: string, hint: string): never {
  throw new ValidationError(`${field}: ${message}`, { hint, details: { field } })
}

export function checkContent(content: unknown, field = "body.content"): string {
  if (typeof content !== "string" || content.length === 0) bad(field, "must be a non-empty string", "send the text as a JSON string")
  if (content.length > MAX_CONTENT_CHARS)
    throw new PayloadTooLargeError(`${field}: ${content.length.toLocaleString("en-US")} characters is over the limit of ${MAX_CONTENT_CHARS.toLocaleString("en-US")}`, { hint: "split the text and send the parts one by one", details: { field, limit: MAX_CONTENT_CHARS } })
  return content
}

function hintOf(b: TokensBody) {
  if (b.kind !== undefined && (typeof b.kind !== "string" || !CONTENT_KINDS.includes(b.kind as ContentKind))) bad("body.kind", `must be one of ${CONTENT_KINDS.join(", ")}`, "leave it out to let the sections be found")
  const language = b.language === undefined ? undefined : typeof b.language === "string" ? languageOf(b.language) : undefined
  if (b.language !== undefined && !language) bad("body.language", "is not a language with a grammar here", "use e.g. typescript, javascript, python, go, rust, java")
  if (b.path !== undefined && typeof b.path !== "string") bad("body.path", "must be a string", "a file name such as src/app.ts")
  return { kind: b.kind as ContentKind | undefined, language, path: b.path as string | undefined }
}

export function compressOptions(b: TokensBody) {
  let strategies: StrategyName[] | undefined
  if (b.strategies !== undefined) {
    if (!Array.isArray(b.strategies)) bad("body.strategies", "must be an array of strategy names", `use some of ${STRATEGIES.join(", ")}`)
    strategies = b.strategies.map((s, i) => {
      if (typeof s !== "string" || !STRATEGIES.includes(s as StrategyName)) bad(`body.strategies.${i}`, `unknown strategy ${JSON.stringify(s)}`, `use some of ${STRATEGIES.join(", ")}`)
      return s as StrategyName
    })
  }
  const t = b.target_reduction
  if (t !== undefined && (typeof t !== "number" || !Number.isFinite(t) || t < 0 || t > MAX_TARGET)) bad("body.target_reduction", `must be a number from 0 to ${MAX_TARGET}`, "e.g. 0.3 to remove 30% of the tokens")
  const budget = b.budget_tokens
  if (budget !== undefined && (typeof budget !== "number" || !Number.isInteger(budget) || budget < 1)) bad("body.budget_tokens", "must be a whole number of tokens, 1 or more", "e.g. 4000")
  if (b.keep_doc_comments !== undefined && typeof b.keep_doc_comments !== "boolean") bad("body.keep_doc_comments", "must be true or false", "true keeps /** */ and /// comments")
  if (b.keep_recent !== undefined && (typeof b.keep_recent !== "number" || !Number.isInteger(b.keep_recent) || b.keep_recent < 1)) bad("body.keep_recent", "must be a whole number, 1 or more", "turns of a conversation always kept")
  let contexts: string[] | undefined
  if (b.contexts !== undefined) {
    if (!Array.isArray(b.contexts) || b.contexts.some((c) => typeof c !== "string")) bad("body.contexts", "must be an array of strings", "texts the reader already has")
    contexts = b.contexts as string[]
    const total = contexts.reduce((n, c) => n + c.length, 0)
    if (total > MAX_CONTENT_CHARS) throw new PayloadTooLargeError(`body.contexts: ${total.toLocaleString("en-US")} characters is over the limit of ${MAX_CONTENT_CHARS.toLocaleString("en-US")}`, { details: { field: "body.contexts", limit: MAX_CONTENT_CHARS } })
  }
  return { ...hintOf(b), strategies, targetReduction: t as number | undefined, budgetTokens: budget as number | undefined, keepDocComments: b.keep_doc_comments as boolean | undefined, contexts, keepRecent: b.keep_recent as number | undefined }
}

export type TokenServiceOptions = { db: Queryable; model?: string; log?: Logger; now?: () => Date }

export class TokenService {
  private cached?: { at: number; estimator: Estimator }
  private readonly model: string

  constructor(private readonly o: TokenServiceOptions) {
    this.model = o.model || "default"
  }

  /** The estimator, recalibrated from the recorded usage at most once a minute. */
  async estimator(): Promise<Estimator> {
    const now = Date.now()
    if (this.cached && now - this.cached.at < RECALIBRATE_MS) return this.cached.estimator
    let estimator: Estimator
    try {
      estimator = new Estimator(calibrate(this.model, await this.pairs()))
    } catch (e) {
      this.o.log?.warn(`token estimator: calibration failed, using the priors: ${(e as Error).message}`)
      estimator = new Estimator()
    }
    this.cached = { at: now, estimator }
    return estimator
  }

  /** Forget the cached calibration (tests; after a batch of tasks). */
  invalidate(): void {
    this.cached = undefined
  }

  /**
   * Recorded pairs, oldest first: completed single-request tasks (one
   * attempt, Claude Code's num_turns = 1) with the prompt that was sent and
   * the input it reported (input + cache reads + cache writes).
   *
   * Problem: an agent keeps its Claude Code session from task to task, so a
   * later task's request carries the earlier tasks' turns too (measured: the
   * second task on an agent sent 3 messages). Fix: the first task of a
   * session pairs its prompt with the whole input (Claude Code's fixed part
   * is the role's overhead); a task after a one-turn task of the same
   * session pairs its prompt with what the input grew by (its input less the
   * previous task's input and output), as role TURN_ROLE, whose overhead is
   * a turn's framing. After a task of several turns nothing is paired until
   * the session ends (what its tools added is not known).
   */
  async pairs(limit = 2000): Promise<Pair[]> {
    const rows = await this.o.db.query<Record<string, unknown>>(
      `SELECT * FROM (
         SELECT role, coalesce(prompt, description) AS prompt, metadata -> 'prompt' -> 'tokens' -> 'sent_chars' AS sent, status, attempts, finished_at,
                metadata -> 'agentData' ->> 'numTurns' AS turns,
                input_tokens + cache_read_tokens + cache_creation_tokens AS reported,
                lag(input_tokens + cache_read_tokens + cache_creation_tokens) OVER w AS prev_reported,
                lag(output_tokens) OVER w AS prev_output,
                lag(CASE WHEN status = 'completed' AND metadata -> 'agentData' ->> 'numTurns' = '1' THEN 1 ELSE 0 END) OVER w AS prev_one_turn
           FROM tasks
          WHERE finished_at IS NOT NULL AND (session_id IS NOT NULL OR status = 'completed')
         WINDOW w AS (PARTITION BY agent_id, coalesce(session_id, id::text) ORDER BY finished_at, id)
       ) t
        WHERE status = 'completed' AND attempts = 1 AND turns = '1' AND reported > 0 AND (prev_one_turn IS NULL OR prev_one_turn = 1)
        ORDER BY finished_at DESC LIMIT $1`,
      [limit],
    )
    const out: Pair[] = []
    for (const r of rows.reverse()) {
      const sent = r.sent as Partial<Record<ContentKind, number>> | null
      const chars = sent && typeof sent === "object" ? { prose: sent.prose ?? 0, code: sent.code ?? 0, json: sent.json ?? 0, logs: sent.logs ?? 0 } : charsByKind(String(r.prompt))
      if (r.prev_reported === null || r.prev_reported === undefined) out.push({ role: (r.role as string | null) ?? null, chars, reported: Number(r.reported) })
      else {
        const grew = Number(r.reported) - Number(r.prev_reported) - Number(r.prev_output)
        if (grew > 0) out.push({ role: TURN_ROLE, chars, reported: grew })
      }
    }
    return out
  }

  async analyze(body: TokensBody) {
    const content = checkContent(body.content)
    return analyze(content, await this.estimator(), hintOf(body))
  }

  async compress(body: TokensBody): Promise<CompressResult> {
    const content = checkContent(body.content)
    const opts = compressOptions(body)
    const r = await compress(content, await this.estimator(), opts)
    await this.record(r, { source: "api" }).catch((e: unknown) => this.o.log?.warn(`token savings not recorded: ${(e as Error).message}`))
    return r
  }

  /** Keep what each strategy saved (metrics add it up). */
  async record(r: CompressResult, by: { source: "api" | "prompt_stage"; taskId?: string; agentId?: string; role?: string | null }): Promise<void> {
    const changed = r.strategies.filter((s) => s.tokens_saved !== 0)
    for (const s of changed) {
      await this.o.db.query(
        `INSERT INTO token_savings (task_id, agent_id, role, source, strategy, lossy, tokens_before, tokens_after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [by.taskId ?? null, by.agentId ?? null, by.role ?? null, by.source, s.strategy, LOSSY.has(s.strategy), s.tokens_before, s.tokens_after],
      )
    }
  }

  async metrics(q: MetricsQuery = {}) {
    return metrics(this.o.db, await this.estimator(), q, this.o.now?.() ?? new Date())
  }

  async recommendations(q: MetricsQuery = {}) {
    return recommendations(await this.metrics(q))
  }
}
