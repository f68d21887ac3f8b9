import { command } from "./common"
import { connect } from "../daemon/client"

export default command({
  meta: { name: "algorithm", description: "Show the routing algorithm, or switch it: heuristic, linucb, q_learning, dqn, ppo" },
  args: { name: { type: "positional", description: "The algorithm to switch to", required: false } },
  async run(ctx, args) {
    const client = await connect()
    if (!args.name) {
      const r = await client.get<{ algorithm: string }>("/api/v1/rl/algorithm")
      return ctx.emit("RlAlgorithm", r, (d) => d.algorithm)
    }
    const r = await client.post<{ algorithm: string; previous: string }>("/api/v1/rl/algorithm", { algorithm: String(args.name) })
    ctx.emit("RlAlgorithm", r, (d) => `routing algorithm: ${d.previous} -> ${d.algorithm}`)
  },
})
