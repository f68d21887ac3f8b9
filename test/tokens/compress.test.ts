import { expect, test } from "bun:test"
import { Glob } from "bun"
import { readdirSync } from "node:fs"
import { analyze } from "../../src/tokens/analyze"
import { compress } from "../../src/tokens/compress"
import { calibrate, DEFAULT_CHARS_PER_TOKEN, effectiveChars, Estimator, type Pair } from "../../src/tokens/estimate"
import { sections } from "../../src/tokens/kinds"
import { errorCount, withTree } from "../../src/treesitter/parser"
import { languageForPath } from "../../src/treesitter/languages"
import { parseConversation } from "../../src/tokens/strategies/history"

// Compression on real code nobody here wrote (node_modules sources, Python's
// standard library): comments and skeletons never add parse errors.

const est = new Estimator()

async function corpus(root: string, pattern: string, limit: number): Promise<string[]> {
  const out: string[] = []
  for await (const f of new Glob(pattern).scan({ cwd: root, absolute: true })) {
    if (out.length >= limit) break
    if (!/\.min\.|\.d\.ts$/.test(f)) out.push(f)
  }
  return out
}

const pyRoot = `/usr/lib/${readdirSync("/usr/lib").find((d) => /^python3\.\d+$/.test(d))}`
const files = [
  ...(await corpus("node_modules/citty/dist", "*.mjs", 3)),
  ...(await corpus("node_modules/elysia/dist", "**/*.mjs", 8)),
  ...(await corpus("node_modules/valibot/dist", "*.js", 1)),
  ...(await corpus("node_modules/yaml/dist", "**/*.js", 6)),
  ...(await corpus(pyRoot, "*.py", 10)),
]

test("the corpus is there (node_modules sources and Python's standard library)", () => {
  expect(files.filter((f) => f.endsWith(".py")).length).toBeGreaterThanOrEqual(5)
  expect(files.filter((f) => !f.endsWith(".py")).length).toBeGreaterThanOrEqual(5)
})

test("no strategy adds parse errors, and code_comments and summarize save tokens, on every file", async () => {
  let savedComments = 0
  let savedSkeleton = 0
  let total = 0
  for (const f of files) {
    const text = await Bun.file(f).text()
    const lang = languageForPath(f)!
    const before = await withTree(text, lang, errorCount)
    for (const strategies of [["code_comments"], ["summarize"], ["deduplicate"], ["deduplicate", "code_comments", "whitespace", "summarize"]] as const) {
      const r = await compress(text, est, { kind: "code", path: f, strategies: [...strategies] })
      const after = await withTree(r.content, lang, errorCount)
      expect(after, `${f} ${strategies[0]}`).toBeLessThanOrEqual(before)
      expect(r.parse_errors_introduced).toBe(0)
      if (strategies[0] === "code_comments") savedComments += r.tokens_saved
      else if (strategies.length === 1 && strategies[0] === "summarize") savedSkeleton += r.tokens_saved
    }
    total += est.count(text, { kind: "code" })
  }
  expect(savedComments / total).toBeGreaterThan(0.05)
  expect(savedSkeleton / total).toBeGreaterThan(0.4)
}, 60_000)

test("deduplicate leaves code whose parse errors a folded block would grow, and still folds balanced repeats", async () => {
  const branch = "  if (n > 1) {\n    n = n * 2\n    n = n + 1\n  } else {"
  // the third block repeats the second, but cutting it would take an `if {` and an `} else {` with it
  const unbalanced = `export function a(n: number) {\n\n${branch}\n\n${branch}\n\n  }\n  }\n  return n\n}\n`
  expect(await withTree(unbalanced, "typescript", errorCount)).toBe(0)
  const r = await compress(unbalanced, est, { kind: "code", language: "typescript", strategies: ["deduplicate"] })
  expect(r.content).toBe(unbalanced)
  expect(r.parse_errors_introduced).toBe(0)
  expect(r.strategies[0]!.notes?.join(" ")).toMatch(/would add [1-9]\d* parse error\(s\) to this typescript code/)
  const call = "  log('starting the step', n)\n  log('still starting', n)\n  log('nearly started', n)"
  const balanced = `export function b(n: number) {\n\n${call}\n\n${call}\n\n  return n\n}\n`
  const ok = await compress(balanced, est, { kind: "code", language: "typescript", strategies: ["deduplicate"] })
  expect(ok.content).toContain("// [same 3 lines as block 2 above")
  expect(await withTree(ok.content, "typescript", errorCount)).toBe(0)
})

test("keep_doc_comments keeps /** */ and drops the rest", async () => {
  const code = "/** Adds two numbers. */\nexport function add(a: number, b: number) {\n  // the sum\n  return a + b // done\n}\n"
  const kept = await compress(code, est, { kind: "code", language: "typescript", strategies: ["code_comments"], keepDocComments: true })
  expect(kept.content).toBe("/** Adds two numbers. */\nexport function add(a: number, b: number) {\n  return a + b\n}\n")
  const all = await compress(code, est, { kind: "code", language: "typescript", strategies: ["code_comments"] })
  expect(all.content).toBe("export function add(a: number, b: number) {\n  return a + b\n}\n")
  expect(all.strategies[0]!.cut).toEqual(["3 comments removed"])
})

test("sections: fenced code by language, logs, JSON and prose", () => {
  const text = "Fix this:\n\n```python\ndef f():\n    return 1\n```\n\n" + "2026-01-02 10:00:00 ERROR db down\n2026-01-02 10:00:01 INFO retry\n\n" + '{"a": [1, 2]}\n'
  const s = sections(text)
  expect(s.map((x) => [x.kind, x.language ?? null])).toEqual([["prose", null], ["code", "python"], ["prose", null], ["logs", null], ["json", null]].filter((x, i) => i !== 2 || s.length === 5) as never)
})

test("deduplicate folds repeats within a text and across contexts, losing nothing", async () => {
  const block = "alpha line one\nalpha line two\nalpha line three"
  const text = `${"retrying connection\n".repeat(12)}\n${block}\n\nbetween\n\n${block}\n\nshared one\nshared two\nshared three`
  const r = await compress(text, est, { kind: "logs", strategies: ["deduplicate"], contexts: ["x\n\nshared one\nshared two\nshared three"] })
  expect(r.content).toContain("retrying connection\n[previous line repeated 11 more times]")
  expect(r.content).toContain('[same 3 lines as block 2 above, starting "alpha line one"]')
  expect(r.content).toContain('[same 3 lines as context #1, starting "shared one"]')
  expect(r.strategies[0]!.lossy).toBe(false)
  expect(r.tokens_after).toBeLessThan(r.tokens_before)
})

test("summarize cuts long logs to head and tail, counting what was cut, and says it is lossy", async () => {
  const log = Array.from({ length: 500 }, (_, i) => (i === 250 ? "2026-01-01 12:00:00 ERROR disk full" : `2026-01-01 12:00:00 INFO step ${i} done`)).join("\n")
  const r = await compress(log, est, { kind: "logs", strategies: ["summarize"] })
  expect(r.content).toContain("[… 439 lines (")
  expect(r.content).toContain("ERROR disk full")
  expect(r.lossy).toBe(true)
  expect(r.strategies[0]).toMatchObject({ strategy: "summarize", lossy: true })
})

test("history folds older turns, keeps the system prompt and the recent turns within the budget", async () => {
  const messages = Array.from({ length: 30 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: `turn ${i}: ${"edit src/app.ts and run the tests again please. ".repeat(20)}` }))
  const text = JSON.stringify({ system: "You are a careful engineer.", messages })
  const r = await compress(text, est, { budgetTokens: 1500 })
  const c = parseConversation(r.content)!
  expect(c.system).toBe("You are a careful engineer.")
  expect(c.messages.at(-1)!.content).toBe(messages.at(-1)!.content.trimEnd()) // whitespace (lossless) ran first
  expect(c.messages[0]!.content).toStartWith("[Summary of the ")
  expect(c.messages[0]!.content).toContain("files: src/app.ts")
  expect(r.tokens_after).toBeLessThanOrEqual(1500)
  expect(r.goal.met).toBe(true)
  expect(r.strategies.find((s) => s.strategy === "history")).toMatchObject({ lossy: true })
})

test("lossy strategies run only when a target needs them", async () => {
  const code = await Bun.file("node_modules/citty/dist/index.mjs").text()
  const light = await compress(code, est, { kind: "code", path: "x.mjs", targetReduction: 0.01 })
  expect(light.strategies.map((s) => s.strategy)).not.toContain("summarize")
  const heavy = await compress(code, est, { kind: "code", path: "x.mjs", targetReduction: 0.5 })
  expect(heavy.strategies.map((s) => s.strategy)).toContain("summarize")
  expect(heavy.reduction).toBeGreaterThanOrEqual(0.5)
})

test("analyze runs every strategy and reports comments, repeats and blobs", async () => {
  const text = "Look:\n\n```ts\n// a comment that is long enough\nconst x = 1\n```\n\n" + `data:${"QUJD".repeat(80)}\n` + "same line again and again\n".repeat(5)
  const a = await analyze(text, est)
  expect(a.by_kind.code).toBeGreaterThan(0)
  expect(a.findings.comments.tokens).toBeGreaterThan(0)
  expect(a.findings.blobs[0]!.kind).toBe("base64")
  expect(a.findings.repeated_lines.count).toBe(4)
  expect(a.strategies.map((s) => s.strategy)).toEqual(["deduplicate", "code_comments", "whitespace", "summarize", "history"])
})

test("calibration recovers rates and overhead from recorded pairs and measures its error held out", () => {
  // Pairs made by a known rule (overhead 12,000 for backend, 9,000 for qa; code at 2.8 chars a token, prose at 4.5).
  const pairs: Pair[] = Array.from({ length: 40 }, (_, i) => {
    const code = (i * 997) % 20_000
    const prose = (i * 331) % 6_000
    const role = i % 3 ? "backend" : "qa"
    return { role, chars: { code, prose, json: 0, logs: 0 }, reported: Math.round((role === "backend" ? 12_000 : 9_000) + code / 2.8 + prose / 4.5) }
  })
  const c = calibrate("m", pairs)
  expect(c.charsPerToken.code).toBeCloseTo(2.8, 0)
  expect(Math.abs(c.overhead.backend! - 12_000)).toBeLessThan(300)
  expect(c.error!.heldOut).toBe(true)
  expect(c.error!.median).toBeLessThan(0.02)
  expect(c.charsPerToken.json).toBeCloseTo(DEFAULT_CHARS_PER_TOKEN.json, 6) // never seen: keeps its prior
})

test("effective characters count a run of blanks once, and counting is fast", () => {
  expect(effectiveChars("a    b\t\tc")).toBe(5)
  const big = "const x = 1 // y\n".repeat(60_000)
  const t0 = performance.now()
  est.count(big, { kind: "code" })
  expect(performance.now() - t0).toBeLessThan(500) // ~1 MB: a loose bound, the bench has the figure
})
