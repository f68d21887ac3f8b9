import { keyValues } from "../output"

// How the agent commands show one agent (the daemon's GET /agents/:id shape).

export type AgentView = {
  id: string
  role: string
  kind: "local" | "remote"
  driver: string
  status: string
  health: string
  pid?: number | null
  sessionId?: string | null
  taskIds: string[]
  restarts?: number
  cwd?: string
  host?: string | null
  spawnedAt?: string
  lastHeartbeatAt: string | null
  lastOutput?: string
}

export function describeAgent(a: AgentView): string {
  return keyValues([
    ["id", a.id],
    ["role", a.role],
    ["driver", a.kind === "local" ? a.driver : `remote${a.host ? ` on ${a.host}` : ""}`],
    ["status", a.status],
    ["task", a.taskIds.join(", ") || "-"],
    ...(a.kind === "local"
      ? ([
          ["pid", a.pid ?? "-"],
          ["session", a.sessionId ?? "-"],
          ["restarts", a.restarts ?? 0],
          ["cwd", a.cwd ?? ""],
        ] as [string, string | number][])
      : []),
  ])
}
