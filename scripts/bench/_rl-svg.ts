// A line chart as SVG text, for the rl bench's learning curves.

const COLORS: Record<string, string> = { oracle: "#222", heuristic: "#d62728", random: "#999", linucb: "#1f77b4", q_learning: "#2ca02c", dqn: "#9467bd", ppo: "#ff7f0e" }

export function learningCurveSvg(o: { title: string; driftAt: number; series: { name: string; values: number[] }[] }): string {
  const W = 860
  const H = 420
  const m = { l: 56, r: 130, t: 36, b: 40 }
  const n = Math.max(...o.series.map((s) => s.values.length))
  const all = o.series.flatMap((s) => s.values)
  const lo = Math.floor(Math.min(...all) * 10) / 10
  const hi = Math.ceil(Math.max(...all) * 10) / 10
  const x = (i: number) => m.l + (i / Math.max(1, n - 1)) * (W - m.l - m.r)
  const y = (v: number) => H - m.b - ((v - lo) / Math.max(1e-9, hi - lo)) * (H - m.t - m.b)
  const lines = o.series.map((s, k) => {
    const d = s.values.map((v, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("")
    const color = COLORS[s.name] ?? "#333"
    const dash = s.name === "oracle" ? ' stroke-dasharray="4 3"' : ""
    return `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"${dash}/><text x="${W - m.r + 10}" y="${m.t + 16 + k * 18}" fill="${color}" font-size="12">${s.name}</text>`
  })
  const ticks: string[] = []
  for (let v = lo; v <= hi + 1e-9; v += 0.1) ticks.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/><text x="${m.l - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end">${v.toFixed(1)}</text>`)
  for (let e = 0; e <= n; e += 100) ticks.push(`<text x="${x(e).toFixed(1)}" y="${H - m.b + 16}" font-size="11" text-anchor="middle">${e}</text>`)
  const drift = `<line x1="${x(o.driftAt)}" x2="${x(o.driftAt)}" y1="${m.t}" y2="${H - m.b}" stroke="#555" stroke-dasharray="2 4"/><text x="${x(o.driftAt) + 4}" y="${m.t + 12}" font-size="11">drift</text>`
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${m.l}" y="20" font-size="13">${o.title}</text>
${ticks.join("\n")}
${drift}
${lines.join("\n")}
<text x="${(W - m.r + m.l) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">episode</text>
</svg>
`
}
