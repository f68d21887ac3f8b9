import { StreamAgent } from "./stream-driver"
import type { Agent, AgentOptions } from "./types"

// The one entry point the pool uses: an agent of either driver, not yet
// started (`createAgent`) or started and ready (`startAgent`). The pty driver
// and bun-pty load only when a pty agent is made.

export async function createAgent(opts: AgentOptions): Promise<Agent> {
  if ((opts.driver ?? "stream") === "stream") return new StreamAgent(opts)
  const { PtyAgent } = await import("./pty-driver")
  return new PtyAgent(opts)
}

export async function startAgent(opts: AgentOptions): Promise<Agent> {
  const agent = await createAgent(opts)
  await agent.start()
  return agent
}
