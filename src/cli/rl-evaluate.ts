import { command } from "./common"
import { connect } from "../daemon/client"
import { evaluationLines } from "../rl/format"
import type { Evaluation } from "../rl/ope"

export default command({
  meta: { name: "evaluate", description: "Off-policy estimates (IPS, SNIPS, doubly robust) of every algorithm on the recorded decisions" },
  async run(ctx) {
    const client = await connect()
    ctx.emit("RlEvaluation", await client.post<Evaluation>("/api/v1/rl/evaluate", {}), (e) => evaluationLines(e).join("\n"))
  },
})
