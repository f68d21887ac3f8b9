import type { McpServerSpec } from "./types"

// The MCP servers an agent gets through `--mcp-config <file> --strict-mcp-config`
// (strict: the user's own MCP servers stay out of the pool's agents).

/** How to start this program again: the binary itself when compiled, bun + the entry script from source. */
export function selfCommand(): string[] {
  return Bun.main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, Bun.main]
}

/** `cca mcp --agent <id>`: the ACP tools of one agent. */
export function ccaMcpServer(agentId: string, command: string[] = selfCommand()): McpServerSpec {
  const [bin, ...rest] = command
  if (!bin) throw new Error("ccaMcpServer: empty command")
  return { command: bin, args: [...rest, "mcp", "--agent", agentId] }
}

export function mcpConfig(servers: Record<string, McpServerSpec>): { mcpServers: Record<string, { type: "stdio"; command: string; args: string[]; env: Record<string, string> }> } {
  const mcpServers: Record<string, { type: "stdio"; command: string; args: string[]; env: Record<string, string> }> = {}
  for (const [name, s] of Object.entries(servers)) mcpServers[name] = { type: "stdio", command: s.command, args: s.args ?? [], env: s.env ?? {} }
  return { mcpServers }
}
