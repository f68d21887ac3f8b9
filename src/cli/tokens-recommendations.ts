import { command } from "./common"
import { connect } from "../daemon/client"
import { recommendationsText } from "../tokens/format"
import type { Recommendation } from "../tokens/metrics"

export default command({
  meta: { name: "recommendations", description: "Ways to spend fewer tokens, from the recorded usage, each with evidence and possible saving" },
  async run(ctx) {
    const client = await connect()
    ctx.emit("TokenRecommendations", await client.get<{ recommendations: Recommendation[]; based_on: { tasks: number; days: number } }>("/api/v1/tokens/recommendations"), recommendationsText)
  },
})
