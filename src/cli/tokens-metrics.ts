import { command } from "./common"
import { connect } from "../daemon/client"
import { metricsText } from "../tokens/format"
import type { Metrics } from "../tokens/metrics"

export default command({
  meta: { name: "metrics", description: "Recorded token usage per role (and agent, task family, day in --json), savings, estimator error" },
  args: { days: { type: "string", integer: true, description: "Look back this many days (default 30)" } },
  async run(ctx, args) {
    const client = await connect()
    ctx.emit("TokenMetrics", await client.get<Metrics>(`/api/v1/tokens/metrics${args.days ? `?days=${encodeURIComponent(String(args.days))}` : ""}`), metricsText)
  },
})
