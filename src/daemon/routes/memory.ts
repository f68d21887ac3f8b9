import { Elysia } from "elysia"
import type { DaemonContext } from "../context"
import { doc } from "../context"
import { API_PREFIX } from "../prefix"
import type { SearchInput, StoreInput } from "../../memory/service"

// The ReasoningBank (src/memory). Bodies are checked by the service (one
// place for HTTP, CLI and MCP): a 400 names the field; no pgvector or an
// embedding provider that is down is a 503 with a hint.

export function memoryRoutes(ctx: DaemonContext) {
  const m = ctx.memory
  return new Elysia({ name: "memory", prefix: `${API_PREFIX}/memory` })
    .post("/search", ({ body }) => m.search((body ?? {}) as SearchInput), {
      detail: doc({ summary: "Search stored patterns by meaning: {query, limit?, kind?, role?, min_similarity?}", tags: ["memory"], responses: { 200: "Patterns, closest first", 400: "A bad field", 503: "No pgvector, or the embedding provider is down" } }),
    })
    .post(
      "/store",
      async ({ body, set }) => {
        const r = await m.store((body ?? {}) as StoreInput)
        set.status = r.created ? 201 : 200
        return { ...m.json(r.pattern), created: r.created, merged: r.merged }
      },
      { detail: doc({ summary: "Store a pattern: {content, title?, kind?, role?, metadata?}; a near-duplicate of its kind merges (200)", tags: ["memory"], responses: { 201: "The pattern", 400: "A bad field", 503: "No pgvector, or the embedding provider is down" } }) },
    )
    .get("/", ({ query }) => m.list({ limit: query.limit ? Number(query.limit) : undefined, offset: query.offset ? Number(query.offset) : undefined, kind: query.kind }), {
      detail: doc({ summary: "Patterns, newest first (?limit, ?offset, ?kind)", tags: ["memory"] }),
    })
    .get("/stats", () => m.stats(), { detail: doc({ summary: "Counts by kind and model, successes, failures, stale vectors", tags: ["memory"] }) })
    .post("/backfill", ({ body }) => m.backfill(typeof (body as { limit?: unknown })?.limit === "number" ? (body as { limit: number }).limit : undefined), {
      detail: doc({ summary: "Embed patterns that have no vector of the current model yet (up to limit, default 1000)", tags: ["memory"] }),
    })
    .post(
      "/reembed",
      async ({ set }) => {
        set.status = 202
        return m.reembed()
      },
      { detail: doc({ summary: "Re-embed every stale pattern with the current model, as a job", tags: ["memory"], responses: { 202: "The job" } }) },
    )
    .get("/reembed/:id", ({ params }) => m.job(params.id), { detail: doc({ summary: "A reembed job's progress", tags: ["memory"] }) })
    .get("/:id", async ({ params }) => m.json(await m.get(params.id)), { detail: doc({ summary: "One pattern", tags: ["memory"], responses: { 404: "No such pattern" } }) })
    .delete(
      "/:id",
      async ({ params, set }) => {
        await m.delete(params.id)
        set.status = 204
      },
      { detail: doc({ summary: "Delete a pattern", tags: ["memory"], responses: { 204: "Deleted", 404: "No such pattern" } }) },
    )
}
