import { useEffect, useState } from "preact/hooks"
import { api, ApiError, errorText, notAvailable } from "../api"
import { LineChart, type Series } from "../chart"
import { html } from "../html"
import { fmt, Notice, NotInBuild, Section, usd } from "../parts"

// Panels of the other capabilities: memory search, routing, tokens, code
// search. Each reads its route as its issue defines it; a 501 shows "not in
// this build" with the daemon's hint, so a panel starts working the day its
// route does.

type Loaded<T> = { data?: T; missing?: ApiError; error?: string; loading: boolean }

function useGet<T>(path: string): Loaded<T> & { reload(): void } {
  const [s, set] = useState<Loaded<T>>({ loading: true })
  const load = () =>
    api<T>("GET", path).then(
      (data) => set({ data, loading: false }),
      (e: unknown) => set(notAvailable(e) ? { missing: e, loading: false } : { error: errorText(e), loading: false }),
    )
  useEffect(() => void load(), [path])
  return { ...s, reload: load }
}

function SearchForm({ label, id, onSearch }: { label: string; id: string; onSearch: (q: string) => void }) {
  const [q, setQ] = useState("")
  return html`<form class="form row" role="search" onSubmit=${(e: Event) => (e.preventDefault(), onSearch(q))}>
    <span class="grow"><label for=${id}>${label}</label><input id=${id} type="search" required value=${q} onInput=${(e: Event) => setQ((e.target as HTMLInputElement).value)} /></span>
    <button type="submit">Search</button>
  </form>`
}

function usePost<T>() {
  const [s, set] = useState<Loaded<T>>({ loading: false })
  const run = (path: string, body: unknown) => {
    set({ loading: true })
    api<T>("POST", path, body).then(
      (data) => set({ data, loading: false }),
      (e: unknown) => set(notAvailable(e) ? { missing: e, loading: false } : { error: errorText(e), loading: false }),
    )
  }
  return { ...s, run }
}

type Pattern = { id: string; kind: string; title: string; content: string; similarity: number; success_count: number; failure_count: number; success_rate: number | null; model: string }

export function MemoryPanel() {
  const s = usePost<{ patterns: Pattern[]; model: string; search_type: string }>()
  return html`<${Section} title="Memory search">
    <${SearchForm} label="Find stored patterns by meaning" id="memory-q" onSearch=${(query: string) => s.run("/api/v1/memory/search", { query, limit: 10 })} />
    ${s.missing ? html`<${NotInBuild} what="The pattern memory (ReasoningBank)" hint=${s.missing.hint} />` : null}
    ${s.error ? html`<${Notice} kind="error">${s.error}<//>` : null}
    ${s.loading ? html`<p class="muted" aria-busy="true">Searching…</p>` : null}
    ${s.data
      ? html`<p class="muted">${s.data.patterns.length} patterns (${s.data.search_type}, ${s.data.model})</p>
          <ol class="results" data-testid="memory-results">${s.data.patterns.map(
            (p) => html`<li key=${p.id}><strong>${p.title}</strong> <span class="badge">${p.kind}</span>
              <span class="muted">similarity ${p.similarity.toFixed(3)}, ${p.success_rate === null ? "not used yet" : `${p.success_count} ok / ${p.failure_count} failed (${Math.round(p.success_rate * 100)}%)`}</span>
              <pre class="output">${p.content}</pre></li>`,
          )}</ol>`
      : null}
  <//>`
}

type CodeHit = { path: string; name?: string; kind?: string; signature?: string; start_line?: number; end_line?: number; startLine?: number; endLine?: number; snippet?: string; score: number }

export function CodePanel() {
  const s = usePost<{ results?: CodeHit[]; items?: CodeHit[] }>()
  const hits = s.data ? (s.data.results ?? s.data.items ?? []) : []
  return html`<${Section} title="Code search">
    <${SearchForm} label="Find code by what it does" id="code-q" onSearch=${(query: string) => s.run("/api/v1/code/search", { query, limit: 20 })} />
    ${s.missing ? html`<${NotInBuild} what="Code search" hint=${s.missing.hint} />` : null}
    ${s.error ? html`<${Notice} kind="error">${s.error}<//>` : null}
    ${s.loading ? html`<p class="muted" aria-busy="true">Searching…</p>` : null}
    ${s.data
      ? html`<ol class="results" data-testid="code-results">${hits.map(
          (h) => html`<li><code>${h.path}:${h.start_line ?? h.startLine ?? "?"}</code> <strong>${h.name ?? ""}</strong> <span class="muted">${h.kind ?? ""} · score ${h.score.toFixed(3)}</span>
            ${h.signature ? html`<pre class="output">${h.signature}</pre>` : h.snippet ? html`<pre class="output">${h.snippet}</pre>` : null}</li>`,
        )}</ol>${hits.length === 0 ? html`<p class="muted">No matches.</p>` : null}`
      : null}
  <//>`
}

type CurvePoint = { x: number; mean: number }
const points = (xs: CurvePoint[] | undefined): [number, number][] => (xs ?? []).map((p) => [p.x, p.mean])
const reward = (r: { mean: number | null; n: number } | undefined) => (r && r.mean !== null ? `${r.mean} over ${r.n}` : "–")

/** GET /api/v1/rl/status as src/rl/service.ts answers it. */
export function RoutingPanel() {
  const s = useGet<Record<string, any>>("/api/v1/rl/status")
  const d = s.data
  const series: Series[] = d
    ? [
        { name: `policy (${d.algorithm})`, points: points(d.curve?.policy) },
        { name: "heuristic", points: points(d.curve?.heuristic), dashed: true },
      ].filter((x) => x.points.length > 0)
    : []
  return html`<${Section} title="Routing">
    ${s.loading ? html`<p class="muted" aria-busy="true">Loading…</p>` : null}
    ${s.missing ? html`<${NotInBuild} what="Learned routing" hint=${s.missing.hint} />` : null}
    ${s.error ? html`<${Notice} kind="error">${s.error}<//>` : null}
    ${d
      ? html`<dl class="kv" data-testid="rl-status">
            <dt>Algorithm</dt><dd data-testid="rl-algorithm">${String(d.algorithm)}${d.enabled ? "" : " (learning off)"}</dd>
            <dt>Rewarded decisions</dt><dd data-testid="rl-rewarded">${fmt(Number(d.experiences?.rewarded ?? 0))}</dd>
            <dt>Mean reward, last ${d.recent?.window ?? 100}</dt><dd data-testid="rl-recent">policy ${reward(d.recent?.policy)} · heuristic ${reward(d.recent?.heuristic)}</dd>
            <dt>ε</dt><dd>${d.epsilon}</dd>
            <dt>Model</dt><dd>${d.model?.version ? `v${d.model.version}, ${fmt(Number(d.model.updates))} updates` : "not trained yet"}</dd>
          </dl>
          ${series.length
            ? html`<${LineChart} title="Mean reward per run of decisions" series=${series} xTime=${false} xLabel="decisions" yLabel="mean reward" />`
            : html`<p class="muted">No rewarded decisions yet: the curve starts with the first finished task.</p>`}`
      : null}
  <//>`
}

/** Per-day rows of the tokens metrics, whatever the grouping is called. */
function days(m: Record<string, any>): { day: number; input: number; output: number; cost: number }[] {
  const raw = m.byDay ?? m.by_day ?? m.days ?? m.day ?? []
  const rows = Array.isArray(raw) ? raw : Object.entries(raw).map(([day, v]) => ({ day, ...(v as object) }))
  return rows
    .map((r: Record<string, any>) => ({ day: new Date(r.day ?? r.date ?? r.key).getTime(), input: Number(r.inputTokens ?? r.input_tokens ?? r.input ?? 0), output: Number(r.outputTokens ?? r.output_tokens ?? r.output ?? 0), cost: Number(r.costUsd ?? r.cost_usd ?? r.cost ?? 0) }))
    .filter((r) => Number.isFinite(r.day))
    .sort((a, b) => a.day - b.day)
}

export function TokensPanel() {
  const s = useGet<Record<string, any>>("/api/v1/tokens/metrics")
  const d = s.data
  const rows = d ? days(d) : []
  const savings = d ? Object.entries((d.savingsByStrategy ?? d.savings_by_strategy ?? d.savings ?? {}) as Record<string, any>) : []
  return html`<${Section} title="Tokens">
    ${s.loading ? html`<p class="muted" aria-busy="true">Loading…</p>` : null}
    ${s.missing ? html`<${NotInBuild} what="Token metrics" hint=${s.missing.hint} />` : null}
    ${s.error ? html`<${Notice} kind="error">${s.error}<//>` : null}
    ${d
      ? html`<${LineChart} title="Tokens per day" xLabel="day" yLabel="tokens" series=${[
            { name: "input", points: rows.map((r) => [r.day, r.input]) },
            { name: "output", points: rows.map((r) => [r.day, r.output]) },
          ]} />
          <p>Cost over these days: ${usd(rows.reduce((n, r) => n + r.cost, 0))}</p>
          <h3>Savings per strategy</h3>
          ${savings.length
            ? html`<table data-testid="token-savings"><thead><tr><th scope="col">Strategy</th><th scope="col">Tokens saved</th></tr></thead>
              <tbody>${savings.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${fmt(typeof v === "number" ? v : Number(v?.tokensSaved ?? v?.tokens_saved ?? v?.saved ?? NaN))}</td></tr>`)}</tbody></table>`
            : html`<p class="muted">No compression recorded yet.</p>`}`
      : null}
  <//>`
}
