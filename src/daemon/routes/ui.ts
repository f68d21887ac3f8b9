import { Elysia } from "elysia"
import * as v from "valibot"
import type { Logger } from "../../log"
import { serveUi } from "../../ui/assets"
import type { KeyRing } from "../auth"
import type { DaemonContext } from "../context"
import { doc } from "../context"
import { errorResponse } from "../http-errors"
import { OverviewHub } from "../overview"
import { API_PREFIX } from "../prefix"
import { clearedCookie, SESSION_PATH, sessionCookie, sessionToken, type Sessions } from "../sessions"

// The dashboard: its files under /ui (src/ui), the sign-in session
// (/api/v1/session: the guard admits the cookie, sessions.ts), and the live
// overview (/api/v1/overview once, /api/v1/events as a stream).

const SignIn = v.strictObject({
  key: v.pipe(v.string("must be an API key"), v.trim(), v.minLength(1, "must not be empty"), v.maxLength(500, "must be at most 500 characters")),
})
const EventsQuery = v.strictObject({ after: v.optional(v.pipe(v.string(), v.regex(/^\d{1,15}$/, "must be a whole number"), v.transform(Number))) })

export type UiRouteDeps = { ctx: DaemonContext; keys: KeyRing; sessions?: Sessions; authRequired: boolean; log: Logger; sse?: { keepaliveMs?: number } }

const pathOf = (url: string) => {
  const start = url.indexOf("/", url.indexOf("//") + 2)
  const q = url.indexOf("?", start)
  return q === -1 ? url.slice(start) : url.slice(start, q)
}

function sameOriginOrNone(request: Request): boolean {
  const origin = request.headers.get("origin")
  if (!origin) return request.headers.get("sec-fetch-site") !== "cross-site"
  try {
    return new URL(origin).host === (request.headers.get("host") ?? new URL(request.url).host)
  } catch {
    return false
  }
}

export function uiRoutes({ ctx, keys, sessions, authRequired, sse }: UiRouteDeps) {
  const hub = new OverviewHub(ctx)
  const app = new Elysia({ name: "ui" })
    .get(`${API_PREFIX}/overview`, () => hub.snapshot(), { detail: doc({ summary: "The dashboard's overview: agents by role and state, tasks by status, tokens and cost today, each dependency's health", tags: ["ui"] }) })
    .get(
      `${API_PREFIX}/events`,
      ({ request, query }) => {
        const header = request.headers.get("last-event-id")
        const after = header && /^\d{1,15}$/.test(header) ? Number(header) : query.after
        return hub.stream(after, request.signal, sse)
      },
      {
        query: EventsQuery,
        detail: doc({
          summary: "Everything live, as server-sent events: hello, overview (when it changes), task (every task event; id = its id, replayed after Last-Event-ID), agent (pool events), reset (too much was missed: reload)",
          tags: ["ui"],
          sse: true,
          responses: { 200: "text/event-stream" },
        }),
      },
    )
  if (!sessions) return app

  return app
    .get("/ui", ({ request }) => serveUi(request, pathOf(request.url)), { detail: doc({ summary: "The dashboard", tags: ["ui"], public: true, text: true }) })
    .get("/ui/*", ({ request }) => serveUi(request, pathOf(request.url)), { detail: doc({ summary: "The dashboard's files (brotli/gzip, ETag)", tags: ["ui"], public: true, text: true }) })
    .post(
      SESSION_PATH,
      async ({ body, request, set }) => {
        if (!sameOriginOrNone(request)) return errorResponse(403, { code: "csrf", message: "a sign-in from another site was refused", hint: "sign in from the dashboard itself (/ui)" })
        if (!authRequired) return { authRequired: false, csrf: "" }
        const principal = keys.verify(body.key)
        if (!principal) return errorResponse(401, { code: "unauthorized", message: "the API key is not valid (unknown or revoked)", hint: "create one with `cca keys create`, then paste the key it prints" })
        const { token, info, maxAgeS } = await sessions.create(principal, request.headers.get("user-agent") ?? "")
        set.status = 201
        set.headers["set-cookie"] = sessionCookie(request, token, maxAgeS)
        set.headers["cache-control"] = "no-store"
        return { authRequired: true, ...info }
      },
      {
        body: SignIn,
        detail: doc({
          summary: "Sign in to the dashboard: trade an API key for a session cookie (HttpOnly, SameSite=Strict); answers the CSRF token",
          tags: ["ui"],
          public: true,
          responses: { 201: "Signed in (Set-Cookie)", 401: "Not a valid key", 403: "From another site" },
        }),
      },
    )
    .get(
      SESSION_PATH,
      async ({ request, set }) => {
        set.headers["cache-control"] = "no-store"
        if (!authRequired) return { authRequired: false, csrf: "" }
        const token = sessionToken(request)
        const row = token ? await sessions.lookup(token) : undefined
        if (!token || !row) return { authRequired: true, via: "key" } // the guard let an API key through
        return { authRequired: true, via: "session", ...sessions.info(row, token) }
      },
      { detail: doc({ summary: "The current session (expiry, CSRF token for mutating requests)", tags: ["ui"], responses: { 200: "The session", 401: "Not signed in" } }) },
    )
    .delete(
      SESSION_PATH,
      async ({ request, set }) => {
        const token = sessionToken(request)
        if (token) await sessions.revoke(token)
        set.headers["set-cookie"] = clearedCookie(request)
        return { signedOut: Boolean(token) }
      },
      { detail: doc({ summary: "Sign out: the session ends here and on every daemon sharing the store", tags: ["ui"], responses: { 200: "Signed out", 403: "No CSRF token" } }) },
    )
}
