import type { UiFile } from "./build"
import { EMBEDDED } from "./embedded"

// Serving the dashboard's files: brotli or gzip as the browser accepts them
// (precompressed once, at build time), ETags with 304s, a year of caching
// for files named by content and revalidation for index.html, which every
// path under /ui that names no file answers (the page routes by path).
// Loaded on the first request, never at daemon start.

let loading: Promise<Map<string, UiFile>> | undefined

async function load(): Promise<Map<string, UiFile>> {
  let files: UiFile[]
  if (EMBEDDED) {
    const bytes = (p: string) => Bun.file(p).bytes()
    files = await Promise.all(EMBEDDED.map(async (f) => ({ path: f.path, type: f.type, etag: f.etag, immutable: f.immutable, body: await bytes(f.body), gzip: await bytes(f.gzip), br: await bytes(f.br) })))
  } else {
    const { buildUi } = await import("./build")
    files = (await buildUi()).files
  }
  return new Map(files.map((f) => [f.path, f]))
}

export function uiFiles(): Promise<Map<string, UiFile>> {
  loading ??= load().catch((e: unknown) => {
    loading = undefined
    throw e
  })
  return loading
}

// script-src 'self' only; styles may be inline because xterm.js writes a <style> element for its theme.
const PAGE_HEADERS = {
  "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
}

function encoding(accept: string | null): "br" | "gzip" | undefined {
  if (!accept) return undefined
  const offered = accept.toLowerCase()
  const allows = (name: string) => new RegExp(`(^|[,\\s])${name}(?!;\\s*q=0(\\.0+)?\\s*(,|$))`).test(offered)
  if (allows("br")) return "br"
  if (allows("gzip")) return "gzip"
  return undefined
}

function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false
  const bare = etag.replace(/^W\//, "")
  return ifNoneMatch.split(",").some((t) => t.trim() === "*" || t.trim().replace(/^W\//, "") === bare)
}

/** The answer for GET /ui/... */
export async function serveUi(request: Request, path: string): Promise<Response> {
  if (path === "/ui") return new Response(null, { status: 308, headers: { location: "/ui/" } })
  const files = await uiFiles()
  let file = files.get(path)
  if (!file) {
    const last = path.slice(path.lastIndexOf("/") + 1)
    if (last.includes(".")) return new Response("not found\n", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } })
    file = files.get("/ui/index.html")!
  }
  const headers: Record<string, string> = {
    "content-type": file.type,
    etag: file.etag,
    vary: "accept-encoding",
    "cache-control": file.immutable ? "public, max-age=31536000, immutable" : "no-cache",
    "x-content-type-options": "nosniff",
    ...(file.immutable ? {} : PAGE_HEADERS),
  }
  if (matches(request.headers.get("if-none-match"), file.etag)) return new Response(null, { status: 304, headers })
  const enc = encoding(request.headers.get("accept-encoding"))
  const body = enc === "br" ? file.br : enc === "gzip" ? file.gzip : file.body
  if (enc) headers["content-encoding"] = enc
  return new Response(body, { headers })
}
