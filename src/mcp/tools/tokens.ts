import * as z from "zod"
import { defineTool, type ToolContext } from "../tool"
import { defined, forward } from "./forward"

// Token accounting: analyse and compress a text, usage metrics, advice.

const content = z.string().min(1, "content must not be empty").max(1_000_000).describe("The text (prompt, context, file)")

export function tokenTools({ daemon }: ToolContext) {
  return [
    defineTool({
      name: "cca_tokens_analyze",
      title: "Analyse tokens",
      description: "Count the tokens of a text and show where they go (code, prose, whitespace, repetition).",
      input: { content },
      readOnly: true,
      run: ({ content }, call) => forward(daemon, call, "POST", "/api/v1/tokens/analyze", { body: { content }, title: "token analysis" }),
    }),
    defineTool({
      name: "cca_tokens_compress",
      title: "Compress a text",
      description: "Compress a text to fewer tokens while keeping its meaning; returns the compressed text and the saving.",
      input: {
        content,
        strategies: z.array(z.string().min(1).max(64)).max(20).optional().describe("Compression strategies to use (default: the daemon picks)"),
        target_reduction: z.number().gt(0).lt(1).optional().describe("Share of tokens to remove, e.g. 0.3 for 30%"),
      },
      readOnly: true,
      run: ({ content, strategies, target_reduction }, call) =>
        forward(daemon, call, "POST", "/api/v1/tokens/compress", { body: defined({ content, strategies, targetReduction: target_reduction }), title: "compressed" }),
    }),
    defineTool({
      name: "cca_tokens_metrics",
      title: "Token metrics",
      description: "Token usage of the cca pool: per agent, per role and over time, with cost.",
      input: {},
      readOnly: true,
      run: (_args, call) => forward(daemon, call, "GET", "/api/v1/tokens/metrics", { title: "token metrics" }),
    }),
    defineTool({
      name: "cca_tokens_recommendations",
      title: "Token advice",
      description: "Concrete ways to spend fewer tokens, drawn from the pool's recorded usage.",
      input: {},
      readOnly: true,
      run: (_args, call) => forward(daemon, call, "GET", "/api/v1/tokens/recommendations", { title: "recommendations" }),
    }),
  ]
}
