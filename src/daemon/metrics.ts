// Prometheus text exposition (version 0.0.4) without a client library: request
// counters and latency histograms recorded per route, plus gauges read from
// the live system at scrape time.

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

type Histogram = { counts: number[]; sum: number; count: number }

export type Gauge = { name: string; help: string; labels?: Record<string, string>; value: number }
export type GaugeSource = () => Gauge[] | Promise<Gauge[]>

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
}

function labels(l: Record<string, string> | undefined): string {
  if (!l) return ""
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`)
  return parts.length ? `{${parts.join(",")}}` : ""
}

type RouteStats = { method: string; route: string; byStatus: Map<number, number>; latency: Histogram }

export class Metrics {
  private routes = new Map<string, Map<string, RouteStats>>() // route -> method -> stats
  private sources: GaugeSource[] = []

  /** One finished HTTP request. `route` is the route pattern, never the raw path (bounded label set). */
  observe(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.routes.get(route)
    if (!byMethod) this.routes.set(route, (byMethod = new Map()))
    let r = byMethod.get(method)
    if (!r) byMethod.set(method, (r = { method, route, byStatus: new Map(), latency: { counts: BUCKETS.map(() => 0), sum: 0, count: 0 } }))
    r.byStatus.set(status, (r.byStatus.get(status) ?? 0) + 1)
    const h = r.latency
    // Buckets are cumulative; counting only the first one that fits keeps this loop short (render sums them).
    let i = 0
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++
    if (i < BUCKETS.length) h.counts[i]!++
    h.sum += seconds
    h.count++
  }

  addGauges(source: GaugeSource): void {
    this.sources.push(source)
  }

  async render(): Promise<string> {
    const out: string[] = []
    out.push("# HELP cca_http_requests_total HTTP requests answered, by route and status.", "# TYPE cca_http_requests_total counter")
    const all = [...this.routes.values()].flatMap((m) => [...m.values()])
    for (const { method, route, byStatus } of all) {
      for (const [status, n] of byStatus) out.push(`cca_http_requests_total${labels({ method, route, status: String(status) })} ${n}`)
    }
    out.push("# HELP cca_http_request_duration_seconds HTTP request latency.", "# TYPE cca_http_request_duration_seconds histogram")
    for (const { method, route, latency: h } of all) {
      let cumulative = 0
      BUCKETS.forEach((le, i) => out.push(`cca_http_request_duration_seconds_bucket${labels({ method, route, le: String(le) })} ${(cumulative += h.counts[i]!)}`))
      out.push(`cca_http_request_duration_seconds_bucket${labels({ method, route, le: "+Inf" })} ${h.count}`)
      out.push(`cca_http_request_duration_seconds_sum${labels({ method, route })} ${h.sum}`)
      out.push(`cca_http_request_duration_seconds_count${labels({ method, route })} ${h.count}`)
    }
    const gauges = (await Promise.all(this.sources.map((s) => s()))).flat().sort((a, b) => a.name.localeCompare(b.name))
    const seen = new Set<string>()
    for (const g of gauges) {
      if (!seen.has(g.name)) {
        seen.add(g.name)
        out.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`)
      }
      out.push(`${g.name}${labels(g.labels)} ${Number.isFinite(g.value) ? g.value : 0}`)
    }
    return `${out.join("\n")}\n`
  }
}
