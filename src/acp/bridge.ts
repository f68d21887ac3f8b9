// An agent's MCP bridge (`cca mcp --agent ID`, started by Claude Code for that
// agent) talks ACP beside the agent's own connection, so it cannot register
// under the agent's id: the server would supersede the agent's connection
// (4009) and requeue its task. It registers as `<ID>/mcp` with the
// `mcp-bridge` capability instead: the dispatcher offers it no tasks, and
// what it sends (progress, delegation) counts as sent by agent ID.

export const BRIDGE_CAPABILITY = "mcp-bridge"
const SUFFIX = "/mcp"

export function bridgeId(agentId: string): string {
  return `${agentId}${SUFFIX}`
}

export function isBridge(agent: { capabilities: readonly string[] }): boolean {
  return agent.capabilities.includes(BRIDGE_CAPABILITY)
}

/** The agent a connection acts for: itself, or for a bridge the agent it bridges. */
export function actingFor(agent: { agentId: string; capabilities: readonly string[] }): string {
  return isBridge(agent) && agent.agentId.endsWith(SUFFIX) ? agent.agentId.slice(0, -SUFFIX.length) : agent.agentId
}
