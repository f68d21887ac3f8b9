// Cost-weighted input tokens of multi-turn sessions, with and without the
// lossy strategies (summarize + history), for the tokens bench.
//
// Sessions are built from the corpus (nobody here wrote them): each step the
// user hands the agent a slice of a real source file or of a real package
// log and asks about it; the agent answers with a README paragraph. The
// system prompt is a fixed prose block (Claude Code's own is fixed too).
// Prices as Anthropic bills a cached conversation: the prefix sent before
// is a cache read (0.1×), everything new a cache write (1.25×). Claude Code
// caches the whole conversation every request, so that is the model here.
// Counted with o200k (gpt-tokenizer), the stand-in for Claude's tokenizer.
//
// Policy with compression: before a request whose context the estimator puts
// over `threshold`, the conversation is compressed to half of it with
// summarize + history (newest 4 turns whole). That rewrites everything after
// the system prompt, so the next request pays cache writes on the whole
// compressed context: the 0.1× reads are why compressing too often costs more
// than it saves. Baseline: the same session uncompressed (no compaction at
// all; it may outgrow a real context window, which only flatters the
// baseline's size, not its price per token).
import { countTokens } from "gpt-tokenizer/encoding/o200k_base"
import { compress } from "../../src/tokens/compress"
import { Estimator } from "../../src/tokens/estimate"
import { parseConversation, conversationText, type Conversation } from "../../src/tokens/strategies/history"
import { logLines, proseCorpus, rng, type CodeFile } from "./_tokens-corpus"

const READ = 0.1
const WRITE = 1.25

type Step = { user: string; assistant: string }

function session(files: CodeFile[], steps: number, seed: number): { system: string; steps: Step[] } {
  const r = rng(seed)
  const prose = proseCorpus(200_000)
  const logs = logLines()
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!
  let system = ""
  while (system.length < 8000) system += `${pick(prose)}\n\n`
  const out: Step[] = []
  for (let i = 0; i < steps; i++) {
    const size = 2000 + Math.floor(r() * 6000)
    let user: string
    if (r() < 0.75) {
      const f = pick(files)
      const at = Math.floor(r() * Math.max(1, f.text.length - size))
      user = `Read ${f.path} (tool: Read) and tell me what it does:\n\n\`\`\`${f.language}\n${f.text.slice(at, at + size)}\n\`\`\``
    } else {
      const at = Math.floor(r() * Math.max(1, logs.length - 200))
      user = `The install went wrong somewhere, here is the log:\n\n\`\`\`log\n${logs.slice(at, at + Math.ceil(size / 50)).join("\n")}\n\`\`\``
    }
    out.push({ user, assistant: `${pick(prose)}\n\n${pick(prose)}` })
  }
  return { system, steps: out }
}

const tokensOf = (c: Conversation) => countTokens(c.system ?? "") + c.messages.reduce((n, m) => n + countTokens(m.content) + 4, 0)

export async function simulate(s: { system: string; steps: Step[] }, threshold?: number) {
  const est = new Estimator()
  let conv: Conversation = { system: s.system, messages: [] }
  let cached = 0
  let cost = 0
  let plain = 0
  let compressions = 0
  let peak = 0
  let ms = 0
  for (const step of s.steps) {
    conv.messages.push({ role: "user", content: step.user })
    if (threshold !== undefined) {
      const e = est.count(conv.system ?? "") + conv.messages.reduce((n, m) => n + est.count(m.content) + 4, 0)
      if (e > threshold) {
        const t0 = performance.now()
        const r = await compress(conversationText(conv), est, { strategies: ["summarize", "history"], budgetTokens: Math.floor(threshold / 2), keepRecent: 4 })
        ms += performance.now() - t0
        conv = parseConversation(r.content)!
        if (conv.system !== s.system) throw new Error("compression changed the system prompt")
        cached = countTokens(conv.system ?? "") // only the system prompt is still a cached prefix
        compressions++
      }
    }
    const total = tokensOf(conv)
    peak = Math.max(peak, total)
    cost += READ * cached + WRITE * (total - cached)
    plain += total
    conv.messages.push({ role: "assistant", content: step.assistant })
    cached = total
  }
  return { cost, plain, compressions, peak, ms }
}

export async function costBench(files: CodeFile[], o: { quick: boolean }) {
  const kinds = [
    { name: "short (10 steps)", steps: 10, threshold: 24_000 },
    { name: "long (40 steps)", steps: 40, threshold: 24_000 },
    ...(o.quick ? [] : [{ name: "very long (100 steps)", steps: 100, threshold: 24_000 }]),
  ]
  const rows: string[][] = []
  let long = 0
  for (const k of kinds) {
    const seeds = o.quick ? [1, 2] : [1, 2, 3, 4, 5]
    let b = { cost: 0, plain: 0, peak: 0 }
    let c = { cost: 0, plain: 0, peak: 0, compressions: 0, ms: 0 }
    for (const seed of seeds) {
      const s = session(files, k.steps, seed)
      const base = await simulate(s)
      const comp = await simulate(s, k.threshold)
      b = { cost: b.cost + base.cost, plain: b.plain + base.plain, peak: Math.max(b.peak, base.peak) }
      c = { cost: c.cost + comp.cost, plain: c.plain + comp.plain, peak: Math.max(c.peak, comp.peak), compressions: c.compressions + comp.compressions, ms: c.ms + comp.ms }
    }
    const saved = 1 - c.cost / b.cost
    if (k.name.startsWith("long")) long = saved
    const n = seeds.length
    rows.push([
      `${k.name} ×${n}`,
      Math.round(b.cost / n).toLocaleString("en-US"),
      Math.round(c.cost / n).toLocaleString("en-US"),
      `${(100 * saved).toFixed(1)}%`,
      `${(100 * (1 - c.plain / b.plain)).toFixed(1)}%`,
      `${b.peak.toLocaleString("en-US")} / ${c.peak.toLocaleString("en-US")}`,
      (c.compressions / n).toFixed(1),
      `${(c.ms / Math.max(1, c.compressions)).toFixed(0)} ms`,
    ])
  }
  console.log(`\n4. Multi-turn sessions: input tokens weighted by price (cache reads ${READ}×, writes ${WRITE}×), o200k; compressed = summarize + history when the estimate passes 24k, down to 12k`)
  const header = ["session", "baseline cost-wt.", "compressed cost-wt.", "saved", "saved at 1× (no cache)", "peak context base / comp.", "compressions", "per compression"]
  const cells = [header, ...rows]
  const w = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)))
  for (const r of cells) console.log(r.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join("  "))
  return { long }
}
