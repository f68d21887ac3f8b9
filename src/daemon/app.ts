import { Elysia } from "elysia"
import type { CcaConfig } from "../config/schema"
import type { Logger } from "../log"
import { isLoopback, presentedKey, type KeyRing, type Principal } from "./auth"
import { checkBody, checkUrl } from "./body-check"
import { StreamCaps } from "./stream-caps"
import { errorResponse, toHttpError } from "./http-errors"
import type { Metrics } from "./metrics"
import { buildOpenApi, type RouteInfo } from "./openapi"
import { TokenBuckets } from "./rate-limit"
import type { DaemonContext } from "./context"
import { API_PREFIX } from "./prefix"
import { agentRoutes } from "./routes/agents"
import { coordinationRoutes } from "./routes/coordination"
import { memoryRoutes } from "./routes/memory"
import { codeRoutes } from "./routes/code"
import { rlRoutes } from "./routes/rl"
import { tokenRoutes } from "./routes/tokens"
import { systemRoutes } from "./routes/system"
import { uiRoutes } from "./routes/ui"
import { isPublicUiPath, sessionToken, type Admission, type Sessions } from "./sessions"
import { taskRoutes } from "./routes/tasks"

// The HTTP API: Elysia route groups (one plugin per feature) behind one
// guard that every request passes first, in this order: CORS preflight, body
// limit, API key, then a rate limit per key (valid key) or per client address
// (everything else).
// The guard sits in `handle` rather than in Elysia hooks so that requests it
// refuses are counted in /metrics too and never reach routing.

const PUBLIC_PATHS = new Set([`${API_PREFIX}/health`])

export type AppDeps = {
  config: CcaConfig
  keys: KeyRing
  metrics: Metrics
  log: Logger
  ctx: DaemonContext
  /** Dashboard sessions (cookie + CSRF); without them /ui and the session routes are not served. */
  sessions?: Sessions
  now?: () => number
}

/** The client address, or how to get it (Bun's server.requestIP allocates: only asked when needed). */
export type ClientIp = string | (() => string)

export type DaemonApp = {
  app: Elysia
  /** Answer one request. */
  handle(request: Request, ip?: ClientIp): Response | Promise<Response>
  openapi(): Record<string, unknown>
}

function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2)
  if (start === -1) return "/"
  const q = url.indexOf("?", start)
  return q === -1 ? url.slice(start) : url.slice(start, q)
}

/** The route pattern a request matches (`/api/v1/tasks/:id`), for metric labels that stay few. */
export function routeLabeler(routes: readonly { method: string; path: string }[]): (method: string, path: string) => string | undefined {
  const exact = new Map<string, string>()
  const dynamic: { method: string; re: RegExp; path: string }[] = []
  for (const r of routes) {
    if (!r.path.includes(":")) exact.set(`${r.method} ${r.path}`, r.path)
    else dynamic.push({ method: r.method, path: r.path, re: new RegExp(`^${r.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[^/]+/g, "[^/]+")}$`) })
  }
  return (method, path) => exact.get(`${method} ${path}`) ?? dynamic.find((d) => d.method === method && d.re.test(path))?.path
}

export function createApp(deps: AppDeps): DaemonApp {
  const { config, keys, metrics, log, ctx, sessions } = deps
  const d = config.daemon
  const now = deps.now ?? (() => performance.now())
  const byIp = new TokenBuckets(d.rate_limit_ip_rps, d.rate_limit_ip_burst, now)
  const byKey = new TokenBuckets(d.rate_limit_key_rps, d.rate_limit_key_burst, now)
  const authRequired = d.require_auth || !isLoopback(d.bind)
  const cors = new Set(d.cors_origins)
  const sse = { keepaliveMs: d.sse_keepalive_s * 1000 }

  const app = new Elysia()
    .onError(({ code, error, request }) => {
      const { status, body } = toHttpError(code, error)
      if (status >= 500) log.error(`${request.method} ${pathOf(request.url)} failed`, error)
      return errorResponse(status, body)
    })
    .use(systemRoutes(ctx, metrics, (): Record<string, unknown> => openapi()))
    .use(taskRoutes(ctx, sse))
    .use(agentRoutes(ctx, sse))
    .use(coordinationRoutes(ctx))
    .use(rlRoutes(ctx))
    .use(tokenRoutes(ctx))
    .use(memoryRoutes(ctx))
    .use(codeRoutes(ctx))
    .use(uiRoutes({ ctx, keys, sessions, authRequired, log, sse }))

  const routeOf = routeLabeler(app.routes)
  let doc: Record<string, unknown> | undefined
  const openapi = (): Record<string, unknown> =>
    (doc ??= buildOpenApi(app.routes as unknown as RouteInfo[], { title: "cca daemon API", version: ctx.version }))

  const principals = new WeakMap<Request, string>()
  const streams = new StreamCaps(d.sse_per_key, d.sse_per_ip)

  function corsHeaders(request: Request): Record<string, string> | undefined {
    if (cors.size === 0) return undefined
    const origin = request.headers.get("origin")
    if (!origin) return undefined
    if (!cors.has("*") && !cors.has(origin)) return undefined
    return {
      "access-control-allow-origin": cors.has("*") ? "*" : origin,
      "access-control-allow-headers": "authorization, x-api-key, content-type, last-event-id",
      "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
      "access-control-expose-headers": "retry-after, location",
      vary: "origin",
    }
  }

  /**
   * The refusal for a request, or undefined to let it through. A valid key is
   * limited per key; everything else (public routes, no or a wrong key) per
   * client address, so unauthenticated floods and key guessing are throttled
   * before they cost more, and callers behind one NAT with keys are not.
   */
  function guard(request: Request, path: string, ip: ClientIp, t0: number): Response | undefined | Promise<Response | undefined> {
    if (request.method === "OPTIONS") {
      const headers = corsHeaders(request)
      if (headers) return new Response(null, { status: 204, headers: { ...headers, "access-control-max-age": "600" } })
    }
    const length = request.headers.get("content-length")
    if (length !== null && Number(length) > d.body_limit) {
      return errorResponse(413, { code: "payload_too_large", message: `request body of ${length} bytes exceeds the limit of ${d.body_limit}`, hint: "send less, or raise daemon.body_limit in cca.toml" })
    }
    const open = !authRequired || PUBLIC_PATHS.has(path) || (sessions !== undefined && isPublicUiPath(request.method, path))
    const key = open ? undefined : presentedKey(request.headers)
    const perKey = (principal: Principal) => {
      principals.set(request, principal.keyId)
      const taken = byKey.take(principal.keyId, t0)
      return taken.ok ? undefined : limited(taken.retryAfterS, `key ${principal.keyId}`)
    }
    const perIp = () => {
      const taken = byIp.take(typeof ip === "string" ? ip : ip(), t0)
      return taken.ok ? undefined : limited(taken.retryAfterS, "this address")
    }
    // A dashboard session cookie stands for the key that signed in (sessions.ts checks CSRF and origin).
    const cookie = open || key || !sessions ? undefined : sessionToken(request)
    if (cookie && sessions) {
      const decide = (a: Admission) => ("principal" in a ? perKey(a.principal) : (perIp() ?? a.refused))
      const admitted = sessions.admit(request, cookie)
      return admitted instanceof Promise ? admitted.then(decide) : decide(admitted)
    }
    const principal = key ? keys.verify(key) : undefined
    if (principal) return perKey(principal)
    const refusedIp = perIp()
    if (refusedIp) return refusedIp
    if (open) return undefined
    return errorResponse(
      401,
      key
        ? { code: "unauthorized", message: "the API key is not valid (unknown or revoked)", hint: "create one with `cca keys create` and send it as `Authorization: Bearer KEY`" }
        : { code: "unauthorized", message: "an API key is required", hint: "send `Authorization: Bearer KEY` or `X-API-Key: KEY` (create a key with `cca keys create`)" },
      { "www-authenticate": 'Bearer realm="cca"' },
    )
  }

  function limited(retryAfterS: number, who: string): Response {
    return errorResponse(429, { code: "rate_limited", message: `too many requests from ${who}`, hint: `retry after ${retryAfterS} s, or raise daemon.rate_limit_* in cca.toml` }, { "retry-after": String(retryAfterS) })
  }

  function finish(request: Request, path: string, t0: number, response: Response): Response {
    const headers = corsHeaders(request)
    if (headers) for (const [k, v] of Object.entries(headers)) response.headers.set(k, v)
    metrics.observe(request.method, routeOf(request.method, path) ?? "(no route)", response.status, (now() - t0) / 1000)
    return response
  }

  function failed(request: Request, path: string, t0: number, e: unknown): Response {
    log.error(`${request.method} ${path} failed`, e)
    return finish(request, path, t0, errorResponse(500, { code: "internal", message: "internal error", hint: "the daemon log has the details" }))
  }

  // app.fetch (unlike app.handle) answers synchronously when the route's
  // handler is synchronous, so the hot read paths never allocate a promise.
  function handle(request: Request, ip: ClientIp = "local"): Response | Promise<Response> {
    const t0 = now()
    const path = pathOf(request.url)
    const refused = guard(request, path, ip, t0)
    if (refused instanceof Promise) return refused.then((r) => (r ? finish(request, path, t0, r) : admitted(request, path, t0, ip)), (e: unknown) => failed(request, path, t0, e))
    if (refused) return finish(request, path, t0, refused)
    return admitted(request, path, t0, ip)
  }

  /** Past auth and rate limits: the URL and the body are checked (body-check.ts) before routing. */
  function admitted(request: Request, path: string, t0: number, ip: ClientIp): Response | Promise<Response> {
    const badUrl = checkUrl(request.url)
    if (badUrl) return finish(request, path, t0, badUrl)
    if (request.method === "GET" && path.endsWith("/events")) {
      const who = { key: principals.get(request), ip: typeof ip === "string" ? ip : ip() }
      const refusedStream = streams.refuse(who)
      if (refusedStream) return finish(request, path, t0, refusedStream)
      const answer = route(request, path, t0)
      return answer instanceof Response ? streams.track(who, answer, request.signal) : answer.then((r) => streams.track(who, r, request.signal))
    }
    if (request.body === null || request.method === "GET" || request.method === "HEAD") return route(request, path, t0)
    return checkBody(request, d.body_limit).then(
      (r) => (r instanceof Response ? finish(request, path, t0, r) : route(r, path, t0)),
      (e: unknown) => failed(request, path, t0, e),
    )
  }

  function route(request: Request, path: string, t0: number): Response | Promise<Response> {
    let answer: Response | Promise<Response>
    try {
      answer = app.fetch(request) as Response | Promise<Response>
    } catch (e) {
      return failed(request, path, t0, e)
    }
    if (answer instanceof Response) return finish(request, path, t0, answer)
    return answer.then(
      (response) => finish(request, path, t0, response),
      (e: unknown) => failed(request, path, t0, e),
    )
  }

  return { app: app as unknown as Elysia, handle, openapi }
}
