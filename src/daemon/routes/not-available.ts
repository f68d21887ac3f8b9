import { Elysia } from "elysia"
import { doc } from "../context"
import { API_PREFIX } from "../prefix"
import { errorResponse } from "../http-errors"

// Route groups that later capabilities fill: memory (ReasoningBank), code
// (index and search). Until their issue lands they answer 501 `not_available` with a
// hint, never a fake result; the paths are final, so clients and the OpenAPI
// document already know them.

type Planned = { method: "GET" | "POST"; path: string; summary: string }

const GROUPS: Record<string, { hint: string; routes: Planned[] }> = {
  memory: {
    hint: "the ReasoningBank (pattern memory) is not in this build yet",
    routes: [
      { method: "POST", path: "/search", summary: "Search stored patterns by meaning" },
      { method: "POST", path: "/store", summary: "Store a pattern" },
      { method: "POST", path: "/backfill", summary: "Embed patterns that have no vector yet" },
    ],
  },
  code: {
    hint: "code indexing and search are not in this build yet",
    routes: [
      { method: "POST", path: "/index", summary: "Start an indexing job" },
      { method: "GET", path: "/index/:id", summary: "An indexing job's progress" },
      { method: "POST", path: "/search", summary: "Search indexed code" },
      { method: "GET", path: "/stats", summary: "Index statistics" },
    ],
  },
}

export function notAvailableRoutes() {
  let app = new Elysia({ name: "not-available" })
  for (const [group, { hint, routes }] of Object.entries(GROUPS)) {
    for (const r of routes) {
      const path = `${API_PREFIX}/${group}${r.path}`
      const answer = () => errorResponse(501, { code: "not_available", message: `${r.method} ${path} is not available in this daemon`, hint })
      const detail = doc({ summary: `${r.summary} (not available yet: 501)`, tags: [group], responses: { 501: "Not available in this build" } })
      app = r.method === "GET" ? app.get(path, answer, { detail }) : app.post(path, answer, { detail })
    }
  }
  return app
}
