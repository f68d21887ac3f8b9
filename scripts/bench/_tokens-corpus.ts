// The tokens bench's corpus: real code and text that nobody here wrote.
// - TypeScript: the sources of zod, @grpc/grpc-js, ajv and @xterm/xterm as
//   installed in node_modules (their .ts files, not .d.ts);
// - JavaScript: ioredis, express, dockerode, docker-modem (their shipped .js);
// - Python: the standard library at /usr/lib/python3.11 (top-level modules);
// - prose: the README.md of the installed packages;
// - logs: this machine's /var/log/dpkg.log and apt's term.log;
// - JSON: the installed packages' package.json.
// Files are taken in path order until each language's byte cap, so a run is
// the same set every time on one machine.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import type { LanguageName } from "../../src/treesitter/grammars"

const ROOT = join(import.meta.dir, "..", "..")
const NM = join(ROOT, "node_modules")

export type CodeFile = { language: LanguageName; path: string; text: string }

function walk(dir: string, keep: (p: string) => boolean, out: string[] = []): string[] {
  if (!existsSync(dir)) return out
  for (const name of readdirSync(dir).sort()) {
    if (name === "node_modules" || name.startsWith(".")) continue
    const p = join(dir, name)
    const st = statSync(p)
    if (st.isDirectory()) walk(p, keep, out)
    else if (keep(p)) out.push(p)
  }
  return out
}

function take(paths: string[], language: LanguageName, capBytes: number): CodeFile[] {
  const out: CodeFile[] = []
  let bytes = 0
  for (const p of paths) {
    const text = readFileSync(p, "utf8")
    // minified or generated files say nothing about code a model reads
    if (text.length < 400 || text.length > 200_000 || text.split("\n").some((l) => l.length > 1000)) continue
    out.push({ language, path: relative(ROOT, p), text })
    bytes += text.length
    if (bytes >= capBytes) break
  }
  return out
}

function interleave(groups: string[][]): string[] {
  const out: string[] = []
  for (let i = 0; groups.some((g) => i < g.length); i++) for (const g of groups) if (i < g.length) out.push(g[i]!)
  return out
}

export function codeCorpus(capBytes: number): CodeFile[] {
  const ts = interleave(["zod/src", "@grpc/grpc-js/src", "ajv/lib", "@xterm/xterm/src"].map((d) => walk(join(NM, d), (p) => p.endsWith(".ts") && !p.endsWith(".d.ts") && !/\.(test|spec)\.ts$/.test(p))))
  const js = interleave(["ioredis/built", "express/lib", "dockerode/lib", "docker-modem/lib"].map((d) => walk(join(NM, d), (p) => p.endsWith(".js"))))
  const pyDir = ["/usr/lib/python3.11", "/usr/lib/python3.12", "/usr/lib/python3.13"].find((d) => existsSync(d))
  if (!pyDir) throw new Error("no Python standard library under /usr/lib/python3.1x (apt-get install -y python3)")
  const py = readdirSync(pyDir).filter((f) => f.endsWith(".py")).sort().map((f) => join(pyDir, f))
  const files = [...take(ts, "typescript", capBytes), ...take(js, "javascript", capBytes), ...take(py, "python", capBytes)]
  for (const l of ["typescript", "javascript", "python"]) if (!files.some((f) => f.language === l)) throw new Error(`the corpus has no ${l} files (run bun install)`)
  return files
}

/** Paragraphs of the installed packages' READMEs (prose, with their own code fences). */
export function proseCorpus(capBytes: number): string[] {
  const out: string[] = []
  let bytes = 0
  for (const name of readdirSync(NM).sort()) {
    const p = join(NM, name, "README.md")
    if (!existsSync(p)) continue
    for (const para of readFileSync(p, "utf8").split(/\n\s*\n/)) {
      const t = para.trim()
      if (t.length < 200 || t.startsWith("```") || t.startsWith("|") || t.startsWith("<")) continue
      out.push(t)
      bytes += t.length
    }
    if (bytes >= capBytes) break
  }
  return out
}

/** Lines of this machine's package logs. */
export function logLines(): string[] {
  const files = ["/var/log/dpkg.log", "/var/log/apt/term.log"].filter((f) => existsSync(f))
  if (files.length === 0) throw new Error("no /var/log/dpkg.log or /var/log/apt/term.log to take log lines from")
  return files.flatMap((f) => readFileSync(f, "utf8").split("\n").filter((l) => l.trim()))
}

/** package.json files of the installed packages. */
export function jsonCorpus(max: number): string[] {
  return readdirSync(NM)
    .sort()
    .map((n) => join(NM, n, "package.json"))
    .filter((p) => existsSync(p))
    .slice(0, max)
    .map((p) => readFileSync(p, "utf8"))
}

/** A small deterministic generator (the same prompts every run). */
export function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
