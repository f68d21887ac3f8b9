// Compile src/main.ts into dist/scc, with dist/cca as a second name for it.
//
// - splitting: lazily imported commands stay in their own chunks. Without it
//   the bundler hoists every built-in module import (node:fs, node:crypto, ...)
//   to the top, and every command pays for all of them at start-up.
// - citty's `node:util` import goes to src/cli/parse-args.ts (see there why).
// - the dashboard (src/ui/app) is built first (src/ui/build.ts: minified,
//   precompressed, size budget checked), written to dist/ui/, and embedded:
//   src/ui/embedded.ts is replaced by a module importing each file
//   `with { type: "file" }`.
// - a compiled Bun binary auto-loads .env and bunfig.toml from the directory
//   it runs in by default; a repository the user opens could then change how
//   the tool behaves, so every autoload is off.
// - worker threads are entry points of their own (the binary must hold them
//   as files, named by their path from src/): the `local` embedding
//   provider's model runs in one (src/embeddings/local.ts).
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { BUDGET_GZIP_BYTES, buildUi } from "../src/ui/build"

const root = join(import.meta.dir, "..")
const dist = join(root, "dist")
const outfile = join(dist, "scc")

const started = performance.now()
const ui = await buildUi({ production: true }).catch((e: Error) => {
  console.error(e.message)
  process.exit(1)
})
const uiDir = join(dist, "ui")
rmSync(uiDir, { recursive: true, force: true })
mkdirSync(uiDir, { recursive: true })
const embedded: string[] = []
const imports: string[] = []
ui.files.forEach((f, i) => {
  const base = join(uiDir, f.path.slice("/ui/".length).replace(/\//g, "_"))
  writeFileSync(base, f.body)
  writeFileSync(`${base}.gz`, f.gzip)
  writeFileSync(`${base}.br`, f.br)
  for (const [suffix, name] of [["", `f${i}`], [".gz", `f${i}gz`], [".br", `f${i}br`]] as const) imports.push(`import ${name} from ${JSON.stringify(base + suffix)} with { type: "file" }`)
  embedded.push(`{ path: ${JSON.stringify(f.path)}, type: ${JSON.stringify(f.type)}, etag: ${JSON.stringify(f.etag)}, immutable: ${f.immutable}, body: f${i}, gzip: f${i}gz, br: f${i}br }`)
})
const embeddedModule = `${imports.join("\n")}\nexport const EMBEDDED = [${embedded.join(",\n")}]\n`
console.error(`ui: ${ui.files.length} files, ${(ui.gzipBytes / 1024).toFixed(1)} KB gzipped of a ${(BUDGET_GZIP_BYTES / 1024).toFixed(0)} KB budget (${(ui.rawBytes / 1024).toFixed(0)} KB raw)`)

const result = await Bun.build({
  entrypoints: [join(root, "src", "main.ts"), join(root, "src", "embeddings", "local-worker.ts")],
  target: "bun",
  minify: true,
  splitting: true,
  bytecode: true,
  format: "esm",
  sourcemap: "none",
  compile: {
    outfile,
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
  },
  plugins: [
    {
      name: "embedded-ui",
      setup(build) {
        build.onLoad({ filter: /[\\/]src[\\/]ui[\\/]embedded\.ts$/ }, () => ({ contents: embeddedModule, loader: "js" }))
      },
    },
    {
      // dockerode loads gRPC (buildkit sessions), ssh2 (ssh:// engines) and
      // tar-fs (build contexts) at import, roughly tripling its load time in
      // `start`; scc uses none of them (engine.ts refuses ssh://), so they
      // become stubs that throw if ever reached.
      name: "dockerode-unused-transports",
      setup(build) {
        const stub = (what: string) => ({ contents: `module.exports = function () { throw new Error(${JSON.stringify(`${what} is not included in this build`)}) }`, loader: "js" as const })
        build.onLoad({ filter: /[\\/]dockerode[\\/]lib[\\/]session\.js$/ }, () => stub("dockerode buildkit sessions"))
        build.onLoad({ filter: /[\\/]docker-modem[\\/]lib[\\/]ssh\.js$/ }, () => stub("the ssh:// Docker transport"))
        build.onLoad({ filter: /[\\/]tar-fs[\\/]index\.js$/ }, () => stub("tar-fs (image build contexts)"))
      },
    },
    {
      name: "citty-parse-args",
      setup(build) {
        // onResolve is not called for built-in modules, so rewrite citty's source instead.
        const shim = JSON.stringify(join(root, "src", "cli", "parse-args.ts"))
        build.onLoad({ filter: /[\\/]citty[\\/]dist[\\/]index\.mjs$/ }, async (args) => {
          const source = await Bun.file(args.path).text()
          const rewritten = source.replace(/from\s*"node:util"/, `from ${shim}`)
          if (rewritten === source) throw new Error("citty no longer imports node:util as expected: update scripts/build.ts")
          return { contents: rewritten, loader: "js" }
        })
      },
    },
  ],
})
if (!result.success) {
  for (const message of result.logs) console.error(message)
  console.error("build failed")
  process.exit(1)
}
rmSync(join(dist, "cca"), { force: true })
symlinkSync("scc", join(dist, "cca"))
console.error(`built dist/scc and dist/cca in ${Math.round(performance.now() - started)} ms`)
