import { Elysia } from "elysia"
import { doc } from "../context"
import { API_PREFIX } from "../prefix"
import { errorResponse } from "../http-errors"

// Route groups that later capabilities fill: tokens
// (analysis and compression). Until their issue lands they answer 501 `not_available` with a
// hint, never a fake result; the paths are final, so clients and the OpenAPI
// document already know them.

type Planned = { method: "GET" | "POST"; path: string; summary: string }

const GROUPS: Record<string, { hint: string; routes: Planned[] }> = {
  tokens: {
    hint: "token analysis and compression are not in this build yet",
    routes: [
      { method: "POST", path: "/analyze", summary: "Count and analyse the tokens of a text" },
      { method: "POST", path: "/compress", summary: "Compress a context" },
      { method: "GET", path: "/metrics", summary: "Token usage metrics" },
      { method: "GET", path: "/recommendations", summary: "Ways to spend fewer tokens" },
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
