import { isAppError, NetworkError } from "../errors"
import { log } from "../log"
import { VERSION } from "../version"
import { checkFetchUrl } from "./source"

// One conditional GET of the org config. Redirects are followed by hand so
// every hop passes the same https-or-loopback rule, and the Authorization
// header is only ever sent to the origin it was configured for.

export const DEFAULT_FETCH_TIMEOUT_MS = 10_000
const MAX_REDIRECTS = 5
const MAX_BYTES = 16 * 1024 * 1024

export type FetchResult =
  | { status: 200; body: string; etag: string | null; url: string }
  | { status: 304; url: string }
  | { status: number; url: string; statusText: string }

export type FetchOptions = { etag?: string | null; authorization?: string; timeoutMs?: number }

/** Throws NetworkError when no HTTP answer arrives (refused, DNS, TLS, timeout). */
export async function fetchOrgConfig(url: string, opts: FetchOptions = {}): Promise<FetchResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS
  const signal = AbortSignal.timeout(timeoutMs)
  const origin = new URL(url).origin
  let current = url
  try {
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      checkFetchUrl(current)
      const headers: Record<string, string> = { accept: "application/json", "user-agent": `scc/${VERSION}` }
      if (opts.etag) headers["if-none-match"] = opts.etag
      if (opts.authorization && new URL(current).origin === origin) headers.authorization = opts.authorization
      log().debug(`GET ${current}${opts.etag ? ` (If-None-Match ${opts.etag})` : ""}${headers.authorization ? " with authorization" : ""}`)
      const res = await fetch(current, { headers, redirect: "manual", signal })
      const location = res.headers.get("location")
      if (res.status >= 300 && res.status < 400 && res.status !== 304 && location) {
        await res.body?.cancel()
        current = new URL(location, current).href
        continue
      }
      if (res.status === 304) return { status: 304, url: current }
      if (res.status !== 200) {
        await res.body?.cancel()
        return { status: res.status, url: current, statusText: res.statusText }
      }
      return { status: 200, body: await readCapped(res), etag: res.headers.get("etag"), url: current }
    }
  } catch (e) {
    if (isAppError(e)) throw e
    const timedOut = signal.aborted
    const what = timedOut ? `no answer within ${timeoutMs / 1000} s` : (e as Error).message
    throw new NetworkError(`cannot fetch the org config from ${current}: ${what}`, {
      hint: timedOut ? "check your network or VPN, or raise SCC_ORG_TIMEOUT (seconds)" : "check your network or VPN and the org source URL",
      cause: e,
    })
  }
  throw new NetworkError(`too many redirects fetching the org config from ${url}`, { hint: "point the org source at the final URL" })
}

async function readCapped(res: Response): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? 0)
  if (declared > MAX_BYTES) throw new NetworkError(`the org config is ${declared} bytes; the limit is ${MAX_BYTES}`, { hint: "publish a smaller org config" })
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of res.body ?? []) {
    size += chunk.byteLength
    if (size > MAX_BYTES) throw new NetworkError(`the org config is larger than ${MAX_BYTES} bytes`, { hint: "publish a smaller org config" })
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString("utf8")
}
