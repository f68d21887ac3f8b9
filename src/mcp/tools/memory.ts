import * as z from "zod"
import { defineTool, type ToolContext } from "../tool"
import { defined } from "./forward"

// The ReasoningBank: strategies and pitfalls distilled from earlier tasks,
// searched by meaning (POST /api/v1/memory/search). Agents get it too, through
// their bridge (`cca mcp --agent`).

type Hit = { id: string; kind: string; title: string; content: string; similarity: number; success_count: number; failure_count: number }
type SearchAnswer = { patterns: Hit[]; model: string; search_type: string }

const KINDS = ["solution", "error_recovery", "refactoring", "optimization", "testing", "reasoning"] as const

export function memoryTools({ daemon }: ToolContext) {
  return [
    defineTool({
      name: "cca_memory",
      title: "Search memory",
      description: "Search the cca ReasoningBank for strategies and pitfalls from earlier tasks similar to a query (by meaning; each with how often it worked).",
      input: {
        query: z.string().trim().min(1, "query must not be empty").max(10_000).describe("What you are about to do or looking for, in plain words"),
        limit: z.number().int().min(1).max(100).optional().describe("Most patterns to return (default 10)"),
        kind: z.enum(KINDS).optional().describe("Only patterns of this kind"),
      },
      readOnly: true,
      run: async ({ query, limit, kind }, call) => {
        const a = await daemon.call<SearchAnswer>("POST", "/api/v1/memory/search", { body: defined({ query, limit, kind }), signal: call.signal })
        const lines = a.patterns.map((p) => `- [${p.similarity.toFixed(2)}] ${p.title} (${p.kind}; worked ${p.success_count}/${p.success_count + p.failure_count})\n  ${p.content.replace(/\n/g, "\n  ")}`)
        return {
          summary: `${a.patterns.length} pattern(s) similar to "${query.slice(0, 80)}" (${a.model}, ${a.search_type})`,
          detail: lines.join("\n") || "no stored pattern is similar",
          data: a as unknown as Record<string, unknown>,
        }
      },
    }),
  ]
}
