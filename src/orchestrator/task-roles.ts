import { ValidationError } from "../errors"
import type { Sql } from "../store/sql"
import type { Worker } from "./executor"

// Problem: a task for a role that no agent has and none may start waited
// forever (issue 15). Fix: createTask refuses a named role unless someone can
// take it: a built-in role or a local role file the pool may start
// (`configured`), a role listed in `tasks.roles` (`"*"` accepts any: a
// cluster whose workers bring their own roles), the role of a live agent, or
// that of a remote agent this cluster has seen (a worker that comes back).

export type RoleSource = {
  /** Built-in roles, the pool's role files (when it may start agents) and tasks.roles. */
  configured: () => readonly string[]
  workers: () => readonly Worker[]
  sql: Sql
}

export async function knownRoles(s: RoleSource): Promise<string[]> {
  const rows = await s.sql.query<{ role: string }>(`SELECT DISTINCT role FROM agents WHERE driver = 'remote'`)
  return [...new Set([...s.configured(), ...s.workers().map((w) => w.role), ...rows.map((r) => r.role)])].filter((r) => r !== "*").sort()
}

export async function checkTaskRole(role: string | null | undefined, s: RoleSource): Promise<void> {
  if (role === null || role === undefined) return
  const configured = s.configured()
  if (configured.includes("*") || configured.includes(role)) return
  if (s.workers().some((w) => w.role === role)) return
  const known = await knownRoles(s)
  if (known.includes(role)) return
  throw new ValidationError(`role: no agent has role ${JSON.stringify(role)} and none may be started for it; known roles: ${known.join(", ")}`, {
    hint: `use one of the known roles, write ~/.config/cca/roles/${/^[a-z][a-z0-9_-]{0,39}$/.test(role) ? role : "NAME"}.md for a local role, or list it in [tasks] roles (a worker's role that has not connected yet)`,
    details: { field: "role", knownRoles: known },
  })
}
