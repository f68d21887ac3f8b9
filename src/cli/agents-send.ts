import { command } from "./common"
import { connect } from "../daemon/client"
import { UsageError } from "../errors"
import type { TurnResult } from "../agent/types"

// `cca agents send ID MESSAGE`: a direct message to an idle agent, outside any
// task; prints its answer (or, with --no-wait, returns once it is sent).

export default command({
  meta: { name: "send", description: "Send a message to an idle agent and print its answer" },
  args: {
    id: { type: "positional", description: "Agent id", required: true },
    message: { type: "positional", description: "What to say", required: true },
    wait: { type: "boolean", description: "Wait for the answer (--no-wait: only send)", default: true },
    timeout: { type: "string", description: "Seconds the agent may take (default: none)" },
  },
  async run(ctx, args) {
    const timeoutS = args.timeout === undefined ? undefined : Number(args.timeout)
    if (timeoutS !== undefined && !(timeoutS >= 1 && timeoutS <= 3600)) throw new UsageError(`--timeout must be 1 to 3600 seconds, not ${args.timeout}`, { hint: "cca agents send ID 'hello' --timeout 60" })
    const client = await connect({ timeoutMs: ((timeoutS ?? 3600) + 30) * 1000 })
    const id = encodeURIComponent(String(args.id))
    const answer = await client.post<{ agentId: string; result?: TurnResult; accepted?: boolean }>(`/api/v1/agents/${id}/send`, { message: String(args.message), wait: args.wait, timeoutS })
    ctx.emit("AgentMessage", answer, (a) => (a.result ? a.result.text || `(no text; the turn ended with ${a.result.subtype})` : `sent to ${a.agentId}; see \`cca agents logs ${a.agentId}\``))
  },
})
