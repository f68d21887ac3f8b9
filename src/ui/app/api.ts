// The daemon's HTTP API from the page: same origin, the session cookie (never
// the key), and the session's CSRF token on every request that changes
// something. A 401 means the session ended: the app goes back to sign-in.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message)
  }
}

let csrf = ""
let onSignedOut: (reason: string) => void = () => {}

export function setCsrf(token: string): void {
  csrf = token
}

export function whenSignedOut(fn: (reason: string) => void): void {
  onSignedOut = fn
}

export function csrfToken(): string {
  return csrf
}

export async function api<T = any>(method: string, path: string, body?: unknown, opts: { quiet401?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" }
  if (body !== undefined) headers["content-type"] = "application/json"
  if (method !== "GET" && csrf) headers["x-csrf-token"] = csrf
  let res: Response
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin", cache: "no-store" })
  } catch {
    throw new ApiError(0, "network", "the daemon does not answer", "is `cca daemon` running?")
  }
  const text = await res.text()
  let parsed: any
  try {
    parsed = text ? JSON.parse(text) : {}
  } catch {
    parsed = {}
  }
  if (!res.ok) {
    const e = parsed?.error ?? {}
    const err = new ApiError(res.status, e.code ?? "error", e.message ?? `${method} ${path}: ${res.status}`, e.hint)
    if (res.status === 401 && !opts.quiet401) onSignedOut(e.code === "session_expired" ? "Your session has ended. Sign in again." : "Sign in to continue.")
    throw err
  }
  return parsed as T
}

/** The route answers 501: the capability is not in this build. */
export function notAvailable(e: unknown): e is ApiError {
  return e instanceof ApiError && e.status === 501
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.hint ? `${e.message}. ${e.hint}` : e.message
  return e instanceof Error ? e.message : String(e)
}
