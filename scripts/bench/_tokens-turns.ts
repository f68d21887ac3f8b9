// The estimator against reported usage on recorded turns (tokens bench, 3b).
//
// What "reported usage" is on this offline machine: turns recorded through
// the real `claude` (Claude Code, driven by a real daemon in this process)
// against the scripted model server, whose answers report as input_tokens the
// o200k count (gpt-tokenizer) of the text of the request Claude Code really
// sent: its system prompt, tool definitions, reminders and our prompt. So
// the truth is a real BPE over the real request, a stand-in for Claude's own
// tokenizer (which no client has). The daemon stores that usage per task as
// it would Anthropic's; the calibration reads it back exactly as in
// production (TokenService.pairs: completed, one attempt, one turn).
import { join } from "node:path"
import { countTokens } from "gpt-tokenizer/encoding/o200k_base"
import { calibrate, charsByKind, Estimator, fit, median, quantile } from "../../src/tokens/estimate"
import { TURN_ROLE } from "../../src/tokens/service"
import { CLAUDE, claudeEnv, SONNET } from "../../test/support/claude"
import { startModelServer } from "../../test/support/model-server"
import { tmpdir } from "../../test/support/tmpdir"
import { testDaemon } from "../../test/daemon/harness"

/** Every string in a request's system, messages and tools, counted once each. */
function requestText(body: unknown): string {
  const b = (body ?? {}) as { system?: unknown; messages?: unknown; tools?: unknown }
  const parts: string[] = []
  const walk = (v: unknown): void => {
    if (typeof v === "string") parts.push(v)
    else if (Array.isArray(v)) v.forEach(walk)
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) if (k !== "cache_control" && k !== "type") walk(x)
  }
  walk(b.system)
  walk(b.messages)
  parts.push(JSON.stringify(b.tools ?? []))
  return parts.join("\n")
}

type Fn = (t: string) => number

export async function turnsBench(prompts: { kind: string; text: string }[], base: { upstream: Fn; quarter: Fn }): Promise<{ median: number }> {
  const model = await startModelServer([{ match: { side: false }, reply: { content: "Done." } }], { usage: (body) => ({ input: countTokens(requestText(body)), cacheRead: 0, cacheCreation: 0 }) })
  await using ws = await tmpdir({ prefix: "bench-tokens-" })
  await using t = await testDaemon(
    { agents: { max_agents: 1 } },
    { pool: { claudePath: CLAUDE, model: SONNET, env: claudeEnv(model), mcpCommand: null, workspace: ws.path, stateRoot: join(ws.path, "agents") } },
  )
  try {
    await t.daemon.ctx.pool.spawn({ role: "backend" })
    const t0 = performance.now()
    for (const [i, p] of prompts.entries()) {
      const { body } = await t.json("POST", "/api/v1/tasks", { description: `bench turn ${i} (${p.kind})`, prompt: p.text, role: "backend", maxAttempts: 1 })
      const done = await t.daemon.ctx.orchestrator.waitFor(body.id, 120_000)
      if (done?.status !== "completed") throw new Error(`bench turn ${i} ended ${done?.status}: ${JSON.stringify(done?.error)}`)
    }
    const wall = performance.now() - t0
    const rows = await t.daemon.ctx.store.sql.query<{ prompt: string }>(
      `SELECT coalesce(prompt, description) AS prompt FROM tasks WHERE status = 'completed' AND metadata -> 'agentData' ->> 'numTurns' = '1' ORDER BY finished_at, id`,
    )
    const pairs = await t.daemon.ctx.tokens.pairs()
    if (pairs.length !== prompts.length || rows.length !== prompts.length) throw new Error(`recorded ${pairs.length} pairs of ${prompts.length} turns (one-turn tasks only)`)
    const cal = calibrate("bench", pairs)
    const cut = Math.floor(pairs.length * 0.75)
    const fitted = fit(pairs.slice(0, cut))
    const over = (role: string | null) => fitted.overhead[role ?? "*"] ?? fitted.overhead["*"] ?? 0
    const held = pairs.slice(cut).map((p, i) => ({ ...p, prompt: rows[cut + i]!.prompt }))
    const priors = new Estimator()
    const calibrated = new Estimator({ ...cal, ...fitted })
    const err = (f: Fn) => {
      const e = held.map((h) => Math.abs(f(h.prompt) + over(h.role) - h.reported) / h.reported)
      return [median(e), quantile(e, 0.9)]
    }
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`
    const methods: [string, Fn][] = [
      ["chars / 4 (baseline)", base.quarter],
      ["upstream CCA max(words×1.3, bytes/4)", base.upstream],
      ["cca priors", (x) => priors.count(x)],
      ["cca calibrated (fit on the older 3/4)", (x) => calibrated.fromChars(charsByKind(x))],
    ]
    const first = pairs[0]!
    console.log(`\n3b. Estimator against reported usage on ${pairs.length} one-turn tasks run through the real claude on one agent (${(wall / 1000).toFixed(0)} s); truth = o200k of the request Claude Code sent (a stand-in)`)
    console.log(`    The agent keeps its session, so each task after the first is measured by what the reported input grew by (TokenService.pairs); the first task's input was ${first.reported.toLocaleString("en-US")} tokens, of which Claude Code's own system prompt, tools and reminders are nearly all.`)
    console.log(`    Fit on the older ${cut}, measured on the newest ${held.length} (each method gets the same fitted per-turn framing of ${over(TURN_ROLE).toLocaleString("en-US")} tokens); median truth ${median(held.map((h) => h.reported)).toLocaleString("en-US")} tokens`)
    const header = ["method", "median |err| / reported", "p90"]
    const cells = [header, ...methods.map(([n, f]) => { const [m, p90] = err(f); return [n, pct(m!), pct(p90!)] })]
    const w = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)))
    for (const r of cells) console.log(r.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join("  "))
    console.log(`    calibrate() itself reports: median ${pct(cal.error!.median)}, p90 ${pct(cal.error!.p90)} on ${cal.error!.samples} held out; rates (chars/token) ${Object.entries(cal.charsPerToken).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}`)
    return { median: cal.error!.median }
  } finally {
    await model.close()
  }
}
