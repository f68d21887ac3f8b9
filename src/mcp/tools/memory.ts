import * as z from "zod"
import { defineTool, type ToolContext } from "../tool"
import { defined, forward } from "./forward"

// The ReasoningBank: patterns that worked before, searched by meaning.

export function memoryTools({ daemon }: ToolContext) {
  return [
    defineTool({
      name: "cca_memory",
      title: "Search memory",
      description: "Search the cca ReasoningBank for stored patterns (solutions that worked before) similar to a query.",
      input: {
        query: z.string().trim().min(1, "query must not be empty").max(10_000).describe("What you are looking for, in plain words"),
        limit: z.number().int().min(1).max(100).optional().describe("Most patterns to return (default 10)"),
      },
      readOnly: true,
      run: ({ query, limit }, call) => forward(daemon, call, "POST", "/api/v1/memory/search", { body: defined({ query, limit }), title: `patterns similar to "${query.slice(0, 80)}"` }),
    }),
  ]
}
