import { Elysia } from "elysia"
import * as v from "valibot"
import type { DaemonContext } from "../context"
import { doc } from "../context"
import { API_PREFIX } from "../prefix"
import type { TokensBody } from "../../tokens/service"

// Token accounting (src/tokens): analyse and compress a text, usage metrics
// and recommendations. Bodies are checked by the service (one place for
// routes and MCP): an unknown strategy, a target outside 0-0.95 or a bad
// field is a 400 naming it; a text over the size limit a 413 stating it.

const Body = v.record(v.string(), v.unknown())
const Query = v.object({ days: v.optional(v.pipe(v.string(), v.regex(/^\d{1,4}$/, "must be a whole number of days"))) })

export function tokenRoutes(ctx: DaemonContext) {
  const t = ctx.tokens
  return new Elysia({ name: "tokens", prefix: `${API_PREFIX}/tokens` })
    .post("/analyze", ({ body }) => t.analyze(body as TokensBody), {
      body: Body,
      detail: doc({ summary: "Estimate a text's tokens with a breakdown by section (code by language, prose, logs, JSON), repetition, comment share, long lines and blobs, and what each strategy saves when run", tags: ["tokens"], responses: { 200: "The analysis", 400: "A bad field", 413: "Over the size limit" } }),
    })
    .post("/compress", ({ body }) => t.compress(body as TokensBody), {
      body: Body,
      detail: doc({ summary: "Compress a text: strategies (deduplicate, code_comments, whitespace, summarize, history), target_reduction (0-0.95), budget_tokens; returns the content, the saving per strategy and what was cut", tags: ["tokens"], responses: { 200: "The compressed text", 400: "Unknown strategy or target out of range", 413: "Over the size limit" } }),
    })
    .get("/metrics", ({ query }) => t.metrics({ days: query.days ? Number(query.days) : undefined }), {
      query: Query,
      detail: doc({ summary: "Recorded usage per agent, role, task family and day (input, output, cache reads/writes, cost, cache hit rate), savings per strategy, estimator error", tags: ["tokens"] }),
    })
    .get("/recommendations", ({ query }) => t.recommendations({ days: query.days ? Number(query.days) : undefined }), {
      query: Query,
      detail: doc({ summary: "Ways to spend fewer tokens, computed from the metrics, each with its evidence and possible saving", tags: ["tokens"] }),
    })
}
