import { timingSafeEqual } from "node:crypto"
import type { Logger } from "../log"
import type { UiSessionRepo, UiSessionRow } from "../store/ui-sessions"
import type { Principal } from "./auth"
import { errorResponse } from "./http-errors"
import { API_PREFIX } from "./prefix"

// Dashboard sessions: the browser trades an API key for an HttpOnly,
// SameSite=Strict cookie holding a random token (POST /api/v1/session), so
// the key never sits in a URL or in localStorage. The guard (app.ts) admits
// a request that carries the cookie as the key that signed in.
//
// - Where they live: the store (migration 0008), hashed. A restarted daemon,
//   or another daemon on the same PostgreSQL, knows the session, so the
//   page's live views reconnect without a new sign-in. Verified sessions are
//   cached here and checked against the store again every `recheckMs`
//   (revocations made by another daemon arrive within that time).
// - A session ends at sign-out, at its expiry (`ui.session_ttl_s`) or when
//   its API key is revoked.
// - CSRF: a mutating request (anything but GET/HEAD/OPTIONS) or a WebSocket
//   upgrade authenticated by the cookie must carry the session's CSRF token
//   (`X-CSRF-Token`; for a WebSocket, which cannot set headers, `?csrf=`)
//   and, when the browser sends one, an Origin of this host. The token is
//   derived from the session token (sha256), so it survives restarts with
//   the session and nothing more is stored; the page reads it from GET
//   /api/v1/session, which another origin cannot read.

export const SESSION_PATH = `${API_PREFIX}/session`
const COOKIE_PREFIX = "cca_session"
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"])

export type SessionInfo = { keyId: string; name: string; createdAt: string; expiresAt: string; csrf: string }

type Cached = { row: UiSessionRow; checkedAt: number }

export type SessionsOptions = {
  repo: UiSessionRepo
  /** Whether the key a session was made with still works (KeyRing.active). */
  keyActive: (keyId: string) => boolean
  ttlMs: number
  now?: () => number
  recheckMs?: number
  log?: Logger
}

const toHex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString("hex")
const sha256 = (text: string) => new Bun.CryptoHasher("sha256").update(text).digest()

export function csrfFor(token: string): string {
  return sha256(`csrf\0${token}`).toString("base64url")
}

/** The cookie's name: per port, since browsers share cookies across the ports of one host. */
export function cookieName(request: Request): string {
  const host = request.headers.get("host") ?? new URL(request.url).host
  const port = /:(\d+)$/.exec(host)?.[1]
  return port ? `${COOKIE_PREFIX}_${port}` : COOKIE_PREFIX
}

export function sessionToken(request: Request): string | undefined {
  const header = request.headers.get("cookie")
  if (!header) return undefined
  const name = cookieName(request)
  for (const part of header.split(";")) {
    const eq = part.indexOf("=")
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim()
      return /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : undefined
    }
  }
  return undefined
}

function secure(request: Request): boolean {
  return request.url.startsWith("https:") || request.headers.get("x-forwarded-proto") === "https"
}

export function sessionCookie(request: Request, token: string, maxAgeS: number): string {
  return `${cookieName(request)}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.max(0, Math.floor(maxAgeS))}${secure(request) ? "; Secure" : ""}`
}

export function clearedCookie(request: Request): string {
  return sessionCookie(request, "", 0)
}

/** Paths the guard lets through without credentials: the dashboard's files and the sign-in itself. */
export function isPublicUiPath(method: string, path: string): boolean {
  return path === "/ui" || path.startsWith("/ui/") || (method === "POST" && path === SESSION_PATH)
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** A cross-site request: its Origin names another host than the one it was sent to. */
function foreignOrigin(request: Request): boolean {
  const origin = request.headers.get("origin")
  if (!origin) return request.headers.get("sec-fetch-site") === "cross-site"
  try {
    return new URL(origin).host !== (request.headers.get("host") ?? new URL(request.url).host)
  } catch {
    return true
  }
}

export type Admission = { principal: Principal } | { refused: Response }

export class Sessions {
  private cache = new Map<string, Cached>()
  private readonly now: () => number
  private readonly recheckMs: number
  private prunedAt = Number.NEGATIVE_INFINITY

  constructor(private readonly o: SessionsOptions) {
    this.now = o.now ?? Date.now
    this.recheckMs = o.recheckMs ?? 10_000
  }

  /** A new session for a verified key: its token (for the cookie only) and what the page may know. */
  async create(principal: Principal, userAgent = ""): Promise<{ token: string; info: SessionInfo; maxAgeS: number }> {
    const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")
    const now = this.now()
    const row: UiSessionRow = { id: toHex(sha256(token)), keyId: principal.keyId, keyName: principal.name, createdAt: new Date(now), expiresAt: new Date(now + this.o.ttlMs), revokedAt: null, userAgent }
    await this.o.repo.create(row)
    this.cache.set(row.id, { row, checkedAt: now })
    this.prune(now)
    return { token, info: this.info(row, token), maxAgeS: this.o.ttlMs / 1000 }
  }

  /** The live session of a token, or undefined (unknown, expired, revoked, or its key revoked). */
  lookup(token: string): UiSessionRow | undefined | Promise<UiSessionRow | undefined> {
    const id = toHex(sha256(token))
    const now = this.now()
    const hit = this.cache.get(id)
    if (hit && now - hit.checkedAt < this.recheckMs) return this.alive(hit.row, now) ? hit.row : this.forget(id)
    return this.o.repo.get(id).then(
      (row) => {
        if (!row || !this.alive(row, this.now())) return this.forget(id)
        this.cache.set(id, { row, checkedAt: this.now() })
        return row
      },
      (e: unknown) => {
        // The store is down: a session verified before still works for as long as it would have.
        this.o.log?.warn(`session lookup failed: ${(e as Error).message}`)
        return hit && this.alive(hit.row, this.now()) ? hit.row : undefined
      },
    )
  }

  info(row: UiSessionRow, token: string): SessionInfo {
    return { keyId: row.keyId, name: row.keyName, createdAt: row.createdAt.toISOString(), expiresAt: row.expiresAt.toISOString(), csrf: csrfFor(token) }
  }

  async revoke(token: string): Promise<void> {
    const id = toHex(sha256(token))
    this.cache.delete(id)
    await this.o.repo.revoke(id, new Date(this.now()))
  }

  /**
   * The guard's check of a cookie-carrying request: the session must be live
   * and, for a mutating request or a WebSocket, come from this origin with
   * the session's CSRF token.
   */
  admit(request: Request, token: string): Admission | Promise<Admission> {
    const found = this.lookup(token)
    return found instanceof Promise ? found.then((row) => this.decide(request, token, row)) : this.decide(request, token, found)
  }

  private decide(request: Request, token: string, row: UiSessionRow | undefined): Admission {
    if (!row) {
      return {
        refused: errorResponse(401, { code: "session_expired", message: "the dashboard session has ended (signed out, expired, or its API key was revoked)", hint: "sign in again with an API key" }, { "set-cookie": clearedCookie(request) }),
      }
    }
    const upgrade = request.headers.get("upgrade")?.toLowerCase() === "websocket"
    if (upgrade || !SAFE_METHODS.has(request.method)) {
      const presented = upgrade ? new URL(request.url).searchParams.get("csrf") : request.headers.get("x-csrf-token")
      if (foreignOrigin(request) || !presented || !sameText(presented, csrfFor(token))) {
        return {
          refused: errorResponse(403, {
            code: "csrf",
            message: foreignOrigin(request) ? "a request from another site was refused" : "the request lacks the session's CSRF token",
            hint: upgrade ? "open the WebSocket with ?csrf=TOKEN (GET /api/v1/session gives it)" : "send the X-CSRF-Token header that GET /api/v1/session gives, or use an API key instead of the cookie",
          }),
        }
      }
    }
    return { principal: { keyId: row.keyId, name: row.keyName } }
  }

  private alive(row: UiSessionRow, now: number): boolean {
    return row.revokedAt === null && row.expiresAt.getTime() > now && this.o.keyActive(row.keyId)
  }

  private forget(id: string): undefined {
    this.cache.delete(id)
    return undefined
  }

  /** Drop rows that ended more than a day ago, at most once an hour (in the background). */
  private prune(now: number): void {
    if (now - this.prunedAt < 3600_000) return
    this.prunedAt = now
    for (const [id, c] of this.cache) if (!this.alive(c.row, now)) this.cache.delete(id)
    this.o.repo.prune(new Date(now - 86400_000)).catch((e: unknown) => this.o.log?.warn(`pruning sessions failed: ${(e as Error).message}`))
  }
}
