import { command } from "./common"
import { connect } from "../daemon/client"
import type { AgentView } from "./agents-view"

// `cca agents stop ID`: the agent's running turn is interrupted (its task goes
// back to the queue) and its process ends.

export default command({
  meta: { name: "stop", description: "Stop an agent of the daemon's pool" },
  args: { id: { type: "positional", description: "Agent id", required: true } },
  async run(ctx, args) {
    const client = await connect({ timeoutMs: 60_000 })
    const agent = await client.post<AgentView>(`/api/v1/agents/${encodeURIComponent(String(args.id))}/stop`)
    ctx.emit("Agent", agent, (a) => `stopped ${a.id} (${a.role})`)
  },
})
