import { html } from "./html"

// A small SVG line chart for time series (no chart library: a few series of
// at most hundreds of points need no canvas, and SVG is readable by screen
// readers). The data is also offered as a table under the chart.

export type Series = { name: string; points: [number, number][]; dashed?: boolean }

const W = 600
const M = { top: 12, right: 12, bottom: 28, left: 56 }
const COLORS = ["#5fb3ff", "#ffb454", "#7ee787", "#ff7b72", "#d2a8ff"]

function ticks(min: number, max: number, n: number): number[] {
  if (max === min) return [min]
  const step = (max - min) / (n - 1)
  return Array.from({ length: n }, (_, i) => min + i * step)
}

const num = (v: number) => (Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(Math.abs(v) >= 10_000 ? 0 : 1)}k` : Number.isInteger(v) ? String(v) : v.toFixed(2))

export function LineChart({ title, series, xTime = true, xLabel, yLabel, height = 200 }: { title: string; series: Series[]; xTime?: boolean; xLabel?: string; yLabel?: string; height?: number }) {
  const all = series.flatMap((s) => s.points)
  if (all.length === 0) return html`<p class="muted">${title}: no data yet.</p>`
  const xs = all.map((p) => p[0])
  const ys = all.map((p) => p[1])
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)]
  const [y0, y1] = [Math.min(0, ...ys), Math.max(...ys, 0.0001)]
  const iw = W - M.left - M.right
  const ih = height - M.top - M.bottom
  const sx = (x: number) => M.left + (x1 === x0 ? iw / 2 : ((x - x0) / (x1 - x0)) * iw)
  const sy = (y: number) => M.top + ih - ((y - y0) / (y1 - y0)) * ih
  const xfmt = (x: number) => (xTime ? new Date(x).toLocaleDateString(undefined, { month: "short", day: "numeric" }) : num(x))
  const id = `c-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`
  return html`<figure class="chart">
    <svg viewBox=${`0 0 ${W} ${height}`} role="img" aria-labelledby=${id} preserveAspectRatio="xMidYMid meet">
      <title id=${id}>${title}${yLabel ? ` (${yLabel})` : ""}</title>
      ${ticks(y0, y1, 4).map((t) => html`<g><line x1=${M.left} x2=${W - M.right} y1=${sy(t)} y2=${sy(t)} class="grid" /><text x=${M.left - 6} y=${sy(t) + 4} text-anchor="end">${num(t)}</text></g>`)}
      ${ticks(x0, x1, Math.min(4, new Set(xs).size)).map((t) => html`<text x=${sx(t)} y=${height - 8} text-anchor="middle">${xfmt(t)}</text>`)}
      ${series.map(
        (s, i) => html`<polyline fill="none" stroke=${COLORS[i % COLORS.length]} stroke-width="2" stroke-dasharray=${s.dashed ? "6 4" : undefined}
          points=${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ")} />`,
      )}
    </svg>
    <figcaption>
      ${series.map((s, i) => html`<span class="legend"><span class="swatch" style=${`background:${COLORS[i % COLORS.length]}`}></span>${s.name}</span>`)}
      ${xLabel ? html`<span class="muted"> · x: ${xLabel}</span>` : null}
    </figcaption>
    <details><summary>Data of “${title}”</summary>
      <table><thead><tr><th scope="col">${xLabel ?? "x"}</th>${series.map((s) => html`<th scope="col">${s.name}</th>`)}</tr></thead>
      <tbody>${[...new Set(xs)].sort((a, b) => a - b).slice(-50).map((x) => html`<tr><td>${xfmt(x)}</td>${series.map((s) => html`<td>${num(s.points.find((p) => p[0] === x)?.[1] ?? NaN)}</td>`)}</tr>`)}</tbody></table>
    </details>
  </figure>`
}
