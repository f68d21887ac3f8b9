// `bun run bench tokens [--quick] [--no-turns] [--turns N]`: the token efficiency figures, each next to its baseline from the same run.
//
// 1. Strategies on real code (scripts/bench/_tokens-corpus.ts: TypeScript and
//    JavaScript from node_modules, Python's stdlib): per strategy and
//    combined, the reduction of the estimated tokens and of o200k tokens
//    (gpt-tokenizer, a real BPE; no client tokenizer is exact for Claude),
//    parse errors introduced (tree-sitter errorCount of every file before and
//    after, counted here, not taken from compress's own report) and MB/s.
//    Baseline: no compression.
// 2. Codecs for context snapshots: zstd (Bun built-in, level 3) and lz4js (a
//    dependency already) next to gzip (Bun built-in): ratio, MB/s.
// 3. The estimator: against o200k on prompts of each kind, and against the
//    usage reported on turns recorded through the real `claude` and a
//    scripted model server (_tokens-turns.ts), next to upstream CCA's
//    max(words × 1.3, bytes / 4) and chars / 4.
// 4. Cost-weighted input on multi-turn sessions, cache reads at 0.1×
//    (_tokens-sessions.ts).
// Figures from a crowded 2-core machine are noisy (MB/s most of all).
import { countTokens } from "gpt-tokenizer/encoding/o200k_base"
import * as lz4 from "lz4js"
import { compress, type StrategyName } from "../../src/tokens/compress"
import { Estimator, median, quantile } from "../../src/tokens/estimate"
import { errorCount, withTree } from "../../src/treesitter/parser"
import { codeCorpus, jsonCorpus, logLines, proseCorpus, rng, type CodeFile } from "./_tokens-corpus"
import { costBench } from "./_tokens-sessions"
import { turnsBench } from "./_tokens-turns"

const quick = process.argv.includes("--quick")
const noTurns = process.argv.includes("--no-turns")
const turnsArg = process.argv.indexOf("--turns")
const turns = turnsArg > 0 ? Number(process.argv[turnsArg + 1]) : quick ? 16 : 40
const CAP = quick ? 150_000 : 600_000

const pct = (x: number) => `${(100 * x).toFixed(1)}%`
const mbps = (bytes: number, ms: number) => (ms > 0 ? (bytes / 1e6 / (ms / 1000)).toFixed(1) : "-")

function table(title: string, header: string[], rows: (string | number)[][]): void {
  console.log(`\n${title}`)
  const cells = [header, ...rows.map((r) => r.map(String))]
  const w = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)))
  for (const r of cells) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join("  "))
}

const est = new Estimator() // the priors: what a daemon with no recorded usage yet estimates with

// ---- 1. strategies on code ----

const PLANS: { name: string; strategies: StrategyName[] }[] = [
  { name: "deduplicate", strategies: ["deduplicate"] },
  { name: "code_comments", strategies: ["code_comments"] },
  { name: "code_comments (doc kept)", strategies: ["code_comments"] },
  { name: "whitespace", strategies: ["whitespace"] },
  { name: "lossless combined", strategies: ["deduplicate", "code_comments", "whitespace"] },
  { name: "summarize (lossy)", strategies: ["summarize"] },
  { name: "all combined (lossy)", strategies: ["deduplicate", "code_comments", "whitespace", "summarize"] },
]

async function errorsOf(f: CodeFile, text: string): Promise<number> {
  return withTree(text, f.language, (t) => errorCount(t))
}

async function strategiesBench(files: CodeFile[]) {
  const base = new Map<CodeFile, { est: number; bpe: number; errors: number }>()
  let t0 = performance.now()
  for (const f of files) base.set(f, { est: est.count(f.text, { kind: "code", language: f.language }), bpe: countTokens(f.text), errors: await errorsOf(f, f.text) })
  const parseMs = performance.now() - t0
  const langs = ["typescript", "javascript", "python"] as const
  const rows: (string | number)[][] = []
  const byLang: Record<string, Record<string, number>> = {}
  const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.text), 0)
  const estOf = (fs: CodeFile[]) => fs.reduce((n, f) => n + base.get(f)!.est, 0)
  const bpeOf = (fs: CodeFile[]) => fs.reduce((n, f) => n + base.get(f)!.bpe, 0)
  rows.push(["none (baseline)", estOf(files), "0.0%", bpeOf(files), "0.0%", 0, "-", mbps(bytes, parseMs) + " (parse+count)"])
  for (const plan of PLANS) {
    let estAfter = 0
    let bpeAfter = 0
    let introduced = 0
    let reported = 0
    let ms = 0
    const perLang: Record<string, { b: number; a: number }> = {}
    for (const f of files) {
      t0 = performance.now()
      const r = await compress(f.text, est, { kind: "code", language: f.language, strategies: plan.strategies, keepDocComments: plan.name.includes("doc kept") })
      ms += performance.now() - t0
      const after = est.count(r.content, { kind: "code", language: f.language })
      estAfter += after
      bpeAfter += countTokens(r.content)
      reported += r.parse_errors_introduced
      introduced += Math.max(0, (await errorsOf(f, r.content)) - base.get(f)!.errors)
      const l = (perLang[f.language] ??= { b: 0, a: 0 })
      l.b += base.get(f)!.est
      l.a += after
    }
    const e0 = estOf(files)
    const b0 = bpeOf(files)
    rows.push([plan.name, estAfter, pct(1 - estAfter / e0), bpeAfter, pct(1 - bpeAfter / b0), introduced, reported, mbps(bytes, ms)])
    byLang[plan.name] = Object.fromEntries(Object.entries(perLang).map(([l, x]) => [l, 1 - x.a / x.b]))
  }
  const counts = langs.map((l) => `${l} ${files.filter((f) => f.language === l).length} files ${(files.filter((f) => f.language === l).reduce((n, f) => n + f.text.length, 0) / 1e3).toFixed(0)} KB`).join(", ")
  table(`1. Strategies on real code (${counts}); tokens estimated with the priors and counted with o200k`, ["strategy", "est. tokens", "est. saved", "o200k", "o200k saved", "parse errors added", "(compress says)", "MB/s"], rows)
  table(
    "   saved (estimated tokens) per language",
    ["strategy", ...langs],
    Object.entries(byLang).map(([n, x]) => [n, ...langs.map((l) => pct(x[l] ?? 0))]),
  )
  return { rows, byLang }
}

// ---- 2. codecs ----

function timeIt(fn: () => unknown, minMs = 300): number {
  const times: number[] = []
  const start = performance.now()
  while (performance.now() - start < minMs || times.length < 3) {
    const t = performance.now()
    fn()
    times.push(performance.now() - t)
  }
  return median(times)
}

function codecBench(files: CodeFile[]) {
  const rows: (string | number)[][] = []
  for (const lang of ["typescript", "javascript", "python"] as const) {
    const buf = Buffer.from(files.filter((f) => f.language === lang).map((f) => f.text).join("\n"))
    const codecs: [string, () => Uint8Array, (c: Uint8Array) => Uint8Array][] = [
      ["gzip (baseline)", () => Bun.gzipSync(buf), (c) => Bun.gunzipSync(c as Uint8Array<ArrayBuffer>)],
      ["zstd level 3", () => Bun.zstdCompressSync(buf, { level: 3 }), (c) => Bun.zstdDecompressSync(c as Uint8Array<ArrayBuffer>)],
      ["lz4js", () => lz4.compress(buf), (c) => lz4.decompress(c)],
    ]
    for (const [name, c, d] of codecs) {
      const packed = c()
      const back = d(packed)
      if (Buffer.compare(Buffer.from(back), buf) !== 0) throw new Error(`${name} did not give the input back`)
      rows.push([`${lang}: ${name}`, (buf.length / packed.length).toFixed(2), mbps(buf.length, timeIt(c)), mbps(buf.length, timeIt(() => d(packed)))])
    }
  }
  table("2. Codecs (context snapshots), per language's corpus concatenated", ["codec", "ratio", "compress MB/s", "decompress MB/s"], rows)
}

// ---- 3a. the estimator against o200k on prompts of each kind ----

const upstream = (t: string) => Math.max(Math.ceil(t.split(/\s+/).filter(Boolean).length * 1.3), Math.ceil(Buffer.byteLength(t) / 4))
const quarter = (t: string) => Math.ceil(t.length / 4)

export function prompts(files: CodeFile[], n: number): { kind: string; text: string }[] {
  const r = rng(11)
  const prose = proseCorpus(300_000)
  const logs = logLines()
  const json = jsonCorpus(200)
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!
  const out: { kind: string; text: string }[] = []
  for (let i = 0; i < n; i++) {
    const kind = ["prose", "code", "json", "logs", "mixed"][i % 5]!
    const size = 1000 + Math.floor(r() * 9000)
    let text = ""
    if (kind === "prose") while (text.length < size) text += `${pick(prose)}\n\n`
    if (kind === "code") {
      const f = pick(files)
      const at = Math.floor(r() * Math.max(1, f.text.length - size))
      text = `Review this ${f.language} from ${f.path}:\n\n\`\`\`${f.language}\n${f.text.slice(at, at + size)}\n\`\`\``
    }
    if (kind === "json") while (text.length < size) text += pick(json)
    if (kind === "logs") {
      const at = Math.floor(r() * Math.max(1, logs.length - 200))
      text = logs.slice(at, at + Math.ceil(size / 60)).join("\n")
    }
    if (kind === "mixed") {
      const f = pick(files)
      const at = Math.floor(r() * Math.max(1, logs.length - 40))
      text = `${pick(prose)}\n\n\`\`\`${f.language}\n${f.text.slice(0, size / 2)}\n\`\`\`\n\nThe install log:\n\n${logs.slice(at, at + 30).join("\n")}`
    }
    out.push({ kind, text })
  }
  return out
}

function estimatorBench(ps: { kind: string; text: string }[]) {
  const methods: [string, (t: string) => number][] = [
    ["chars / 4 (baseline)", quarter],
    ["upstream CCA max(words×1.3, bytes/4)", upstream],
    ["cca estimator (priors)", (t) => est.count(t)],
  ]
  const rows: (string | number)[][] = []
  const kinds = ["prose", "code", "json", "logs", "mixed"]
  let t0 = performance.now()
  const truth = ps.map((p) => countTokens(p.text))
  const bpeMs = performance.now() - t0
  const bytes = ps.reduce((n, p) => n + p.text.length, 0)
  for (const [name, fn] of methods) {
    t0 = performance.now()
    const got = ps.map((p) => fn(p.text))
    const ms = performance.now() - t0
    const err = (k?: string) => median(ps.flatMap((p, i) => (k === undefined || p.kind === k ? [Math.abs(got[i]! - truth[i]!) / truth[i]!] : [])))
    rows.push([name, pct(err()), ...kinds.map((k) => pct(err(k))), mbps(bytes, ms)])
  }
  rows.push(["o200k itself (the truth here)", "0.0%", ...kinds.map(() => "0.0%"), mbps(bytes, bpeMs)])
  table(`3a. Estimators against o200k (gpt-tokenizer) on ${ps.length} prompts of 1-10 KB: median |error| / o200k`, ["method", "all", ...kinds, "MB/s"], rows)
}

const files = codeCorpus(CAP)
console.log(`bun run bench tokens${quick ? " --quick" : ""}: ${files.length} code files; figures from a crowded 2-core machine are noisy.`)
const s = await strategiesBench(files)
codecBench(files)
const ps = prompts(files, quick ? 100 : 300)
estimatorBench(ps)
const recorded = noTurns ? undefined : await turnsBench(prompts(files, turns), { upstream, quarter })
if (!recorded) console.log("\n3b. (skipped: --no-turns)")
const cost = await costBench(files, { quick })

const lossless = s.rows.find((r) => r[0] === "lossless combined")!
const parseBreaks = s.rows.slice(1).reduce((n, r) => n + Number(r[5]), 0)
console.log("\nGoals")
console.log(`  ≥ 15% fewer tokens on code, lossless only: ${lossless[2]} estimated, ${lossless[4]} o200k`)
console.log(`  no parse breaks: ${parseBreaks} parse errors introduced over all strategies and files`)
console.log(`  ≥ 30% fewer cost-weighted input tokens on long sessions (history + summarize): ${pct(cost.long)}`)
console.log(`  estimator ≤ 10% median error on recorded turns: ${recorded ? `${pct(recorded.median)} (held out, truth = o200k stand-in; see 3b)` : "not run (--no-turns)"}`)
