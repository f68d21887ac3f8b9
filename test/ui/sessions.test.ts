import { afterAll, beforeAll, expect, test } from "bun:test"
import { createKey, revokeKey } from "../../src/config/keys"
import { parseSse, type SseEvent } from "../../src/daemon/client"
import { uiDaemon, type UiDaemon } from "./support"

// The dashboard's door without a browser: sign-in trades a key for a
// cookie, the guard admits the cookie with CSRF and origin checks, sessions
// end at sign-out, expiry and key revocation, and survive a restart (they
// live in the store). Requests go over the wire, as a browser sends them.

let u: UiDaemon
let cookieName: string

beforeAll(async () => {
  u = await uiDaemon({ ui: { session_ttl_s: 3600 } })
  cookieName = `cca_session_${new URL(u.url).port}`
}, 60_000)

afterAll(async () => {
  await u?.[Symbol.asyncDispose]()
})

const origin = () => u.url
const json = async (r: Response): Promise<any> => r.json()
type Session = { cookie: string; csrf: string; body: Record<string, unknown>; setCookie: string }

async function signIn(key = u.key): Promise<Session> {
  const res = await fetch(`${u.url}/api/v1/session`, { method: "POST", headers: { "content-type": "application/json", origin: origin() }, body: JSON.stringify({ key }) })
  expect(res.status).toBe(201)
  const setCookie = res.headers.get("set-cookie") ?? ""
  const cookie = setCookie.split(";")[0]!
  const body = (await json(res)) as Record<string, unknown>
  return { cookie, csrf: String(body.csrf), body, setCookie }
}

/** A request as the page makes it: the cookie, no API key. */
function browserReq(s: Pick<Session, "cookie"> & { csrf?: string }, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(`${u.url}${path}`, {
    method,
    headers: { cookie: s.cookie, origin: origin(), ...(s.csrf ? { "x-csrf-token": s.csrf } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}

test("sign-in with a wrong key is refused with a clear error and no cookie", async () => {
  const res = await fetch(`${u.url}/api/v1/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: "cca_nope_0000000000000000" }) })
  expect(res.status).toBe(401)
  expect(res.headers.get("set-cookie")).toBeNull()
  expect((await json(res)).error).toMatchObject({ code: "unauthorized", message: expect.stringContaining("not valid") })
  const empty = await fetch(`${u.url}/api/v1/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: "" }) })
  expect(empty.status).toBe(400)
  expect((await json(empty)).error.details.field).toBe("body.key")
})

test("sign-in sets an HttpOnly, SameSite=Strict cookie with an expiry; the answer carries the CSRF token, never the key", async () => {
  const s = await signIn()
  expect(s.setCookie).toMatch(new RegExp(`^${cookieName}=[A-Za-z0-9_-]{40,}; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600$`))
  expect(s.body).toMatchObject({ authRequired: true, keyId: u.keyId, csrf: expect.stringMatching(/^[A-Za-z0-9_-]{40,}$/) })
  expect(JSON.stringify(s.body)).not.toContain(u.key)
  const me = await browserReq({ cookie: s.cookie }, "GET", "/api/v1/session")
  expect(me.status).toBe(200)
  expect(await json(me)).toMatchObject({ via: "session", keyId: u.keyId, csrf: s.csrf })
  // A sign-in posted from another site is refused (login CSRF).
  const foreign = await fetch(`${u.url}/api/v1/session`, { method: "POST", headers: { "content-type": "application/json", origin: "https://evil.example" }, body: JSON.stringify({ key: u.key }) })
  expect(foreign.status).toBe(403)
})

test("the cookie reads the API; a mutating request needs the CSRF token and this origin", async () => {
  const s = await signIn()
  expect((await browserReq({ cookie: s.cookie }, "GET", "/api/v1/status")).status).toBe(200)
  const noToken = await browserReq({ cookie: s.cookie }, "POST", "/api/v1/tasks", { description: "no token" })
  expect(noToken.status).toBe(403)
  expect((await json(noToken)).error.code).toBe("csrf")
  expect((await browserReq({ cookie: s.cookie, csrf: "x".repeat(43) }, "POST", "/api/v1/tasks", { description: "wrong token" })).status).toBe(403)
  const foreign = await browserReq(s, "POST", "/api/v1/tasks", { description: "from elsewhere" }, { origin: "https://evil.example" })
  expect(foreign.status).toBe(403)
  expect((await json(foreign)).error.message).toContain("another site")
  const ok = await browserReq(s, "POST", "/api/v1/tasks", { description: "with the token" })
  expect(ok.status).toBe(202)
  // The same applies to a WebSocket upgrade (the terminal): its token travels as ?csrf=.
  const ws = await browserReq({ cookie: s.cookie }, "GET", "/api/v1/agents/nobody/attach", undefined, { upgrade: "websocket", connection: "upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" })
  expect(ws.status).toBe(403)
  // An API key needs no CSRF token: it is not sent by the browser on its own.
  expect((await u.api("POST", "/api/v1/tasks", { description: "with a key" })).status).toBe(202)
})

test("sign-out ends the session: the API refuses the old cookie", async () => {
  const s = await signIn()
  const withoutToken = await browserReq({ cookie: s.cookie }, "DELETE", "/api/v1/session")
  expect(withoutToken.status).toBe(403) // sign-out is a mutating request too
  const out = await browserReq(s, "DELETE", "/api/v1/session")
  expect(out.status).toBe(200)
  expect(out.headers.get("set-cookie")).toContain("Max-Age=0")
  const after = await browserReq({ cookie: s.cookie }, "GET", "/api/v1/status")
  expect(after.status).toBe(401)
  expect((await json(after)).error.code).toBe("session_expired")
})

test("a session expires after ui.session_ttl_s", async () => {
  const s = await signIn()
  expect((await browserReq({ cookie: s.cookie }, "GET", "/api/v1/status")).status).toBe(200)
  u.advance(3601_000)
  const expired = await browserReq({ cookie: s.cookie }, "GET", "/api/v1/status")
  expect(expired.status).toBe(401)
  expect((await json(expired)).error).toMatchObject({ code: "session_expired", hint: expect.stringContaining("sign in") })
  expect((await signIn()).cookie).not.toBe(s.cookie) // a new sign-in works on the moved clock
})

test("revoking the API key ends the sessions it made", async () => {
  const made = await createKey("ui-revoke")
  const s = await signIn(made.key)
  expect((await browserReq({ cookie: s.cookie }, "GET", "/api/v1/status")).status).toBe(200)
  await revokeKey(made.id, [])
  // The daemon rereads keys.json at most once a second, or at once when a key it does not know is presented.
  await fetch(`${u.url}/api/v1/status`, { headers: { authorization: "Bearer cca_unknownid_0123456789abcdef0123" } })
  expect((await browserReq({ cookie: s.cookie }, "GET", "/api/v1/status")).status).toBe(401)
})

test("sessions live in the store: after a daemon restart the same cookie still works", async () => {
  const s = await signIn()
  await u.restart()
  const me = await browserReq({ cookie: s.cookie }, "GET", "/api/v1/session")
  expect(me.status).toBe(200)
  expect(((await json(me)) as { csrf: string }).csrf).toBe(s.csrf) // derived from the token, so the page's token still holds
  expect((await browserReq(s, "POST", "/api/v1/tasks", { description: "after the restart" })).status).toBe(202)
}, 60_000)

test("/ui is served brotli or gzip as accepted, with ETags and 304s; every page path answers index.html", async () => {
  const redirect = await fetch(`${u.url}/ui`, { redirect: "manual" })
  expect(redirect.status).toBe(308)
  expect(redirect.headers.get("location")).toBe("/ui/")
  const br = await fetch(`${u.url}/ui/`, { headers: { "accept-encoding": "gzip, br" } })
  expect(br.status).toBe(200)
  expect(br.headers.get("content-encoding")).toBe("br")
  expect(br.headers.get("cache-control")).toBe("no-cache")
  expect(br.headers.get("content-security-policy")).toContain("script-src 'self'")
  const html = await br.text() // fetch decodes it
  expect(html).toContain('<div id="app">')
  const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)![1]!
  const etag = br.headers.get("etag")!
  expect((await fetch(`${u.url}/ui/`, { headers: { "if-none-match": etag } })).status).toBe(304)
  const deep = await fetch(`${u.url}/ui/tasks/some-id`, { headers: { "accept-encoding": "identity" } })
  expect(deep.headers.get("content-encoding")).toBeNull()
  expect(await deep.text()).toBe(html)
  const js = await fetch(`${u.url}${script}`, { headers: { "accept-encoding": "gzip" } })
  expect(js.headers.get("content-encoding")).toBe("gzip")
  expect(js.headers.get("content-type")).toStartWith("text/javascript")
  expect(js.headers.get("cache-control")).toContain("immutable")
  expect((await js.text()).length).toBeGreaterThan(50_000)
  expect((await fetch(`${u.url}/ui/assets/missing.js`)).status).toBe(404)
  // The files are public; the data is not.
  expect((await fetch(`${u.url}/api/v1/overview`)).status).toBe(401)
}, 60_000)

/** Reads SSE events from a response until `until` says stop (or the timeout). */
async function collect(res: Response, until: (events: SseEvent[]) => boolean, ms = 10_000): Promise<SseEvent[]> {
  const events: SseEvent[] = []
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), ms)
  try {
    for await (const e of parseSse(res.body!)) {
      events.push(e)
      if (until(events)) break
    }
  } finally {
    clearTimeout(timer)
  }
  return events
}

test("GET /api/v1/events: hello, position, the overview, then task events live; Last-Event-ID replays what was missed", async () => {
  const s = await signIn()
  const live = new AbortController()
  const res = await fetch(`${u.url}/api/v1/events`, { headers: { cookie: s.cookie }, signal: live.signal })
  expect(res.headers.get("content-type")).toStartWith("text/event-stream")
  const it = parseSse(res.body!)[Symbol.asyncIterator]()
  const next = async () => (await it.next()).value as SseEvent
  expect((await next()).event).toBe("hello")
  const position = await next()
  expect(position.event).toBe("position")
  const overview = await next()
  expect(overview.event).toBe("overview")
  expect(JSON.parse(overview.data)).toMatchObject({ tasks: { pending: expect.any(Number) }, health: { status: "ok" }, tokensToday: { inputTokens: 0 } })
  const created = ((await (await u.api("POST", "/api/v1/tasks", { description: "seen live" })).json()) as { id: string }).id
  let e = await next()
  while (e.event !== "task") e = await next()
  expect(JSON.parse(e.data)).toMatchObject({ taskId: created, type: "created" })
  const seenId = e.id!
  live.abort()

  // Missed while away: replayed after the id the browser last saw.
  const missed = ((await (await u.api("POST", "/api/v1/tasks", { description: "missed" })).json()) as { id: string }).id
  const again = await fetch(`${u.url}/api/v1/events`, { headers: { cookie: s.cookie, "last-event-id": seenId } })
  const replay = await collect(again, (list) => list.some((x) => x.event === "overview"))
  const tasks = replay.filter((x) => x.event === "task").map((x) => JSON.parse(x.data))
  expect(tasks.map((t) => t.taskId)).toContain(missed)
  expect(tasks.map((t) => t.taskId)).not.toContain(created)
  await again.body?.cancel()
}, 30_000)
