import * as z from "zod"
import { defineTool, jsonText, type ToolContext } from "../tool"

// Agents, their workloads, the ACP server, and broadcasts to agents. In
// `--agent` mode a broadcast goes out over the agent's ACP connection (from
// that agent, not to itself); otherwise through the HTTP API.

type Agent = { id: string; role: string; status: string; health: string; host: string | null; taskIds: string[]; lastHeartbeatAt: string }

type Workloads = {
  tasks: Record<string, number>
  roles: Record<string, { agents: number; idle: number; busy: number; unhealthy: number }>
  agents: { id: string; role: string; status: string; taskIds: string[] }[]
}

type AcpStatus = { url?: string; connections: number; agents: { total?: number; healthy: number; unhealthy: number }; messages: { in: number; out?: number }; errors: number }

const AgentOutput = z.object({ id: z.string(), role: z.string(), status: z.string(), taskIds: z.array(z.string()) }).loose()

export function agentTools({ daemon, agent }: ToolContext) {
  return [
    defineTool({
      name: "cca_agents",
      title: "List agents",
      description: "List the agents connected to the cca daemon: id, role, idle/busy/unhealthy, current task.",
      input: { role: z.string().min(1).max(64).optional().describe("Only agents of this role") },
      output: { agents: z.array(AgentOutput) },
      readOnly: true,
      async run({ role }, call) {
        const { items } = await daemon.call<{ items: Agent[] }>("GET", "/api/v1/agents", { query: { role }, signal: call.signal })
        if (items.length === 0) return { summary: `no agents${role ? ` of role ${role}` : ""} are connected; queued tasks wait until one connects`, data: { agents: [] } }
        const count = (s: string) => items.filter((a) => a.status === s).length
        return {
          summary: `${items.length} agent(s)${role ? ` of role ${role}` : ""}: ${count("idle")} idle, ${count("busy")} busy, ${items.length - count("idle") - count("busy")} unhealthy or gone`,
          detail: items.map((a) => `${a.id}  role ${a.role}  ${a.status}${a.taskIds.length ? `  task ${a.taskIds.join(",")}` : ""}${a.host ? `  on ${a.host}` : ""}`).join("\n"),
          data: { agents: items },
        }
      },
    }),
    defineTool({
      name: "cca_workloads",
      title: "Workloads",
      description: "Work per role and per agent in the cca pool: task counts by status, idle and busy agents of each role.",
      input: {},
      readOnly: true,
      async run(_args, call) {
        const w = await daemon.call<Workloads>("GET", "/api/v1/workloads", { signal: call.signal })
        const roles = Object.entries(w.roles)
        return {
          summary: `tasks: ${Object.entries(w.tasks).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}; ${roles.length} role(s) with agents`,
          detail: roles.length ? roles.map(([r, c]) => `role ${r}: ${c.agents} agent(s), ${c.idle} idle, ${c.busy} busy, ${c.unhealthy} unhealthy`).join("\n") : "no agents connected",
          data: w,
        }
      },
    }),
    defineTool({
      name: "cca_acp_status",
      title: "ACP server status",
      description: "Status of the cca daemon's agent protocol (ACP) server: connections, healthy agents, message and error counters.",
      input: {},
      readOnly: true,
      async run(_args, call) {
        const s = await daemon.call<AcpStatus>("GET", "/api/v1/acp/status", { signal: call.signal })
        return { summary: `ACP: ${s.connections} connection(s), ${s.agents.healthy} healthy and ${s.agents.unhealthy} unhealthy agent(s), ${s.messages.in} message(s) in, ${s.errors} error(s)`, detail: jsonText(s, 2000), data: s }
      },
    }),
    defineTool({
      name: "cca_broadcast",
      title: "Broadcast to agents",
      description: "Send a message to every cca agent (or only to one role's agents); the daemon's own agents get it in front of their next prompt.",
      input: {
        message: z.string().min(1, "message must not be empty").max(100_000).describe("What every agent should hear"),
        role: z.string().min(1).max(64).optional().describe("Only agents of this role"),
      },
      async run({ message, role }, call) {
        const { recipients } = agent
          ? await agent.broadcast({ message, role }, call.signal)
          : await daemon.call<{ recipients: number }>("POST", "/api/v1/broadcast", { body: { message, role }, signal: call.signal })
        const who = role ? ` of role ${role}` : ""
        const summary =
          recipients === 0
            ? `broadcast delivered to no agent: no other agent${who} is running (connected workers hear a broadcast at once, the daemon's own agents before their next prompt)`
            : `broadcast delivered to ${recipients} agent(s)${who} (connected workers hear it at once, the daemon's own agents before their next prompt)`
        return { summary, data: { recipients } }
      },
    }),
  ]
}
