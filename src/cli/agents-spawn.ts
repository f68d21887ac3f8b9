import { command } from "./common"
import { connect } from "../daemon/client"
import { UsageError } from "../errors"
import { describeAgent, type AgentView } from "./agents-view"

// `cca agents spawn --role R [--driver pty] [--id ID]`: starts a Claude Code
// agent in the daemon's pool and returns once it takes prompts.

export default command({
  meta: { name: "spawn", description: "Start an agent in the daemon's pool; returns when it is ready" },
  args: {
    role: { type: "string", description: "Its role: coordinator, frontend, backend, security, qa, or a custom one", required: true },
    driver: { type: "string", description: "stream (default: claude -p) or pty (the interactive UI, attachable)" },
    id: { type: "string", description: "Its id (default: <role>-<random>)" },
  },
  async run(ctx, args) {
    if (args.driver !== undefined && args.driver !== "stream" && args.driver !== "pty") throw new UsageError(`--driver must be stream or pty, not ${args.driver}`, { hint: "cca agents spawn --role backend --driver pty" })
    // Starting Claude Code takes a while: wait as long as the daemon's spawn timeout and then some.
    const client = await connect({ timeoutMs: 180_000 })
    const agent = await client.post<AgentView>("/api/v1/agents", { role: args.role, driver: args.driver, id: args.id })
    ctx.emit("Agent", agent, (a) => `${describeAgent(a)}${a.driver === "pty" ? `\n\nattach: cca agents attach ${a.id}` : ""}`)
  },
})
