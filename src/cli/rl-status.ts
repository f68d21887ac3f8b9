import { command } from "./common"
import { connect } from "../daemon/client"
import { statusText } from "../rl/format"
import type { RlStatus } from "../rl/service"

export default command({
  meta: { name: "status", description: "The routing policy: algorithm, decisions, mean reward next to the heuristic's, ε, model, estimates" },
  async run(ctx) {
    const client = await connect()
    ctx.emit("RlStatus", await client.get<RlStatus>("/api/v1/rl/status"), statusText)
  },
})
