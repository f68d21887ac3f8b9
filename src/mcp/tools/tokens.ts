import * as z from "zod"
import type { Analysis } from "../../tokens/analyze"
import type { CompressResult } from "../../tokens/compress"
import { analysisLine, compressLine, metricsLine, recommendationsLine } from "../../tokens/format"
import type { Metrics, Recommendation } from "../../tokens/metrics"
import { defineTool, jsonText, type ToolContext } from "../tool"
import { defined } from "./forward"

// Token accounting: analyse and compress a text, usage metrics, advice. Each
// tool calls the daemon's /api/v1/tokens route and leads with one line a
// model can act on.

const content = z.string().min(1, "content must not be empty").max(1_000_000).describe("The text (prompt, context, file)")
const data = (x: unknown) => x as Record<string, unknown>

export function tokenTools({ daemon }: ToolContext) {
  return [
    defineTool({
      name: "cca_tokens_analyze",
      title: "Analyse tokens",
      description: "Count a text's tokens, show where they go (code, prose, logs, JSON, repeats, comments) and what each strategy would save.",
      input: { content },
      readOnly: true,
      async run({ content }, call) {
        const a = await daemon.call<Analysis>("POST", "/api/v1/tokens/analyze", { body: { content }, signal: call.signal })
        return { summary: analysisLine(a), detail: jsonText({ ...a, sections: a.sections.slice(0, 20) }), data: data(a) }
      },
    }),
    defineTool({
      name: "cca_tokens_compress",
      title: "Compress a text",
      description: "Compress a text: deduplicate, code_comments, whitespace (lossless), summarize, history (lossy); returns it and the saving per strategy.",
      input: {
        content,
        strategies: z.array(z.string().min(1).max(64)).max(20).optional().describe("Strategies to use: deduplicate, code_comments, whitespace, summarize, history (default: the lossless ones, lossy ones only when a target needs them)"),
        target_reduction: z.number().min(0).max(0.95).optional().describe("Share of tokens to remove (0-0.95), e.g. 0.3 for 30%; lossy strategies run only until it is met"),
      },
      readOnly: true,
      async run({ content, strategies, target_reduction }, call) {
        const r = await daemon.call<CompressResult>("POST", "/api/v1/tokens/compress", { body: defined({ content, strategies, target_reduction }), signal: call.signal })
        return { summary: compressLine(r), detail: r.content, data: data(r) }
      },
    }),
    defineTool({
      name: "cca_tokens_metrics",
      title: "Token metrics",
      description: "Token usage of the cca pool as reported: per agent, role, task family and day, with cost, cache hit rate, savings and estimator error.",
      input: {},
      readOnly: true,
      async run(_args, call) {
        const m = await daemon.call<Metrics>("GET", "/api/v1/tokens/metrics", { signal: call.signal })
        return { summary: metricsLine(m), detail: jsonText(m), data: data(m) }
      },
    }),
    defineTool({
      name: "cca_tokens_recommendations",
      title: "Token advice",
      description: "Concrete ways to spend fewer tokens, drawn from the pool's recorded usage, each with its evidence and possible saving.",
      input: {},
      readOnly: true,
      async run(_args, call) {
        const r = await daemon.call<{ recommendations: Recommendation[]; based_on: { tasks: number; days: number } }>("GET", "/api/v1/tokens/recommendations", { signal: call.signal })
        return { summary: recommendationsLine(r), detail: jsonText(r), data: data(r) }
      },
    }),
  ]
}
