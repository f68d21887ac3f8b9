import { isAbsolute, resolve } from "node:path"
import * as z from "zod"
import { defineTool, type ToolContext } from "../tool"
import { defined, forward } from "./forward"

// Code indexing and search. A relative path means the directory this server
// runs in (Claude Code starts it in the project), sent to the daemon as an
// absolute path.

export function codeTools({ daemon, cwd, agent }: ToolContext) {
  const tools = [
    defineTool({
      name: "cca_index_codebase",
      title: "Index a codebase",
      description: "Index a directory's source files so cca_search_code can find code in it (runs as a job in the daemon).",
      input: {
        path: z.string().min(1, "path must name a directory").max(4096).describe("Directory to index; relative paths are from the project"),
        extensions: z.array(z.string().regex(/^\.?[A-Za-z0-9_+-]{1,16}$/, "an extension such as .ts or py")).max(100).optional().describe("Only files with these extensions, e.g. [\".ts\", \".py\"]"),
        exclude: z.array(z.string().min(1).max(512)).max(200).optional().describe("Glob patterns to skip, e.g. [\"vendor/**\"]"),
      },
      run: ({ path, extensions, exclude }, call) => {
        const absolute = isAbsolute(path) ? path : resolve(cwd, path)
        return forward(daemon, call, "POST", "/api/v1/code/index", { body: defined({ path: absolute, extensions, exclude }), title: `indexing ${absolute}` })
      },
    }),
    defineTool({
      name: "cca_search_code",
      title: "Search code",
      description: "Search indexed code by meaning or name; returns matching chunks with file, lines and score.",
      input: {
        query: z.string().trim().min(1, "query must not be empty").max(10_000).describe("What the code does, or a name"),
        language: z.string().min(1).max(32).optional().describe("Only this language, e.g. typescript"),
        limit: z.number().int().min(1).max(100).optional().describe("Most results (default 10)"),
        kind: z.enum(["function", "method", "class", "interface", "type", "module", "block"]).optional().describe("Only this kind of chunk"),
        path: z.string().min(1).max(4096).optional().describe("Only files whose path (relative to its root) starts with this"),
      },
      readOnly: true,
      run: ({ query, language, limit, kind, path }, call) => forward(daemon, call, "POST", "/api/v1/code/search", { body: defined({ query, language, limit, kind, path }), title: `code matching "${query.slice(0, 80)}"` }),
    }),
  ]
  // An agent (`cca mcp --agent`) gets the search under the short name its prompts use too.
  if (agent) tools.push({ ...tools[1]!, name: "search_code" })
  return tools
}
