import type { UsageLog } from "./summary"
import { toSessions, type SessionOptions } from "./summary"

// Problem: a session whose `scc start` never recorded its end (`--detach`, a
// killed terminal) stayed "active" until its expected duration ran out, even
// after its container was removed (`scc stop`, `scc prune`, `docker rm`).
// Fix: before summarising, the sessions still counted active are looked up
// on the container engine by their `scc.session` label; those with no
// container left are incomplete. Only then is the engine reached (and
// dockerode loaded), so `scc stats` stays fast when nothing is active; an
// engine that does not answer leaves them active, with a warning.

export type Liveness = { gone: Set<string>; checked: number; warning?: string }

export async function goneSessions(log: UsageLog, opts: SessionOptions): Promise<Liveness> {
  const active = toSessions(log.events, opts).filter((s) => s.state === "active")
  if (active.length === 0) return { gone: new Set(), checked: 0 }
  try {
    const [{ connect }, { listManaged }] = await Promise.all([import("../sandbox/engine"), import("../sandbox/containers")])
    const present = new Set((await listManaged(await connect())).map((c) => c.session).filter((s): s is string => s !== null))
    return { gone: new Set(active.filter((s) => !present.has(s.id)).map((s) => s.id)), checked: active.length }
  } catch (e) {
    return { gone: new Set(), checked: 0, warning: `${active.length} active session(s) counted as active: their containers could not be checked (${(e as Error).message})` }
  }
}
