import { brotliCompressSync, constants } from "node:zlib"
import { join } from "node:path"

// Builds the dashboard (src/ui/app) for the browser with Bun: one script and
// one stylesheet with content hashes in their names, and index.html naming
// them. Every file is precompressed (gzip and brotli) and gets an ETag.
// scripts/build.ts calls this and embeds the result in the binary; a daemon
// run from source (tests) calls it on the first /ui request instead.
// The build fails when the gzipped total passes the budget.

export const BUDGET_GZIP_BYTES = 300 * 1024

export type UiFile = {
  /** URL path under /ui, e.g. "/ui/assets/main-1a2b3c.js". */
  path: string
  type: string
  /** Weak validator (the same for every encoding of the file). */
  etag: string
  /** Named by content: cached for a year. index.html is revalidated every time. */
  immutable: boolean
  body: Uint8Array<ArrayBuffer>
  gzip: Uint8Array<ArrayBuffer>
  br: Uint8Array<ArrayBuffer>
}

export type UiBuild = { files: UiFile[]; gzipBytes: number; rawBytes: number; ms: number }

const APP = join(import.meta.dir, "app")

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  html: "text/html; charset=utf-8",
  svg: "image/svg+xml",
  woff2: "font/woff2",
}

export function contentType(path: string): string {
  return TYPES[path.slice(path.lastIndexOf(".") + 1)] ?? "application/octet-stream"
}

function pack(path: string, body: Uint8Array<ArrayBuffer>, immutable: boolean, brQuality: number): UiFile {
  const hash = new Bun.CryptoHasher("sha256").update(body).digest("base64url").slice(0, 22)
  return {
    path,
    type: contentType(path),
    etag: `W/"${hash}"`,
    immutable,
    body,
    gzip: Bun.gzipSync(body, { level: 9 }),
    br: new Uint8Array(brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: brQuality, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } })),
  }
}

export function indexHtml(script: string, style: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark light">
<title>cca dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${style}">
<script type="module" src="${script}"></script>
</head>
<body>
<noscript>The cca dashboard needs JavaScript. The same is available from the CLI: cca status, cca task list, cca agents list.</noscript>
<div id="app"></div>
</body>
</html>
`
}

/** Build the dashboard. `production`: minified, brotli at its best (slower); otherwise quick, for daemons run from source. */
export async function buildUi(opts: { production?: boolean; budget?: number } = {}): Promise<UiBuild> {
  const started = performance.now()
  const production = opts.production ?? false
  const result = await Bun.build({
    entrypoints: [join(APP, "main.ts")],
    target: "browser",
    format: "esm",
    minify: true,
    sourcemap: "none",
    naming: { entry: "[name]-[hash].[ext]", asset: "[name]-[hash].[ext]", chunk: "[name]-[hash].[ext]" },
    define: { "process.env.NODE_ENV": '"production"' },
  })
  if (!result.success) throw new AggregateError(result.logs, `the dashboard did not build:\n${result.logs.map(String).join("\n")}`)
  const brQuality = production ? 11 : 5
  const files: UiFile[] = []
  let script = ""
  let style = ""
  for (const out of result.outputs) {
    const name = out.path.replace(/^.*[\\/]/, "")
    const path = `/ui/assets/${name}`
    if (out.kind === "entry-point") script = path
    else if (name.endsWith(".css")) style = path
    files.push(pack(path, new Uint8Array(await out.arrayBuffer()), true, brQuality))
  }
  if (!script || !style) throw new Error(`the dashboard build made no ${script ? "stylesheet" : "script"}: outputs ${result.outputs.map((o) => o.path).join(", ")}`)
  files.push(pack("/ui/index.html", new Uint8Array(Buffer.from(indexHtml(script, style))), false, brQuality))
  const gzipBytes = files.reduce((n, f) => n + f.gzip.length, 0)
  const rawBytes = files.reduce((n, f) => n + f.body.length, 0)
  const budget = opts.budget ?? BUDGET_GZIP_BYTES
  if (gzipBytes > budget) {
    const list = files.map((f) => `${f.path} ${(f.gzip.length / 1024).toFixed(1)} KB`).join(", ")
    throw new Error(`the dashboard is ${(gzipBytes / 1024).toFixed(1)} KB gzipped, over its budget of ${(budget / 1024).toFixed(0)} KB (${list}): make it smaller, or raise BUDGET_GZIP_BYTES in src/ui/build.ts with a reason`)
  }
  return { files, gzipBytes, rawBytes, ms: performance.now() - started }
}
