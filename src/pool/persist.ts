import type { Clock, Timer } from "../acp/clock"
import type { Logger } from "../log"
import type { PoolOptions } from "./options"
import type { Slot } from "./slot"
import type { PoolAgent } from "./types"

// The pool's state, where others read it: the state store (live status,
// task, pid and heartbeat of each agent; shared between daemons on Redis)
// and the agents table (kept across restarts). Writes are best effort (a
// state store that is away must not stop an agent) and go out in order per
// agent, so a slow write never lands after a newer one.

export function persist(o: PoolOptions, slot: Slot, log: Logger, patch: { upsert?: boolean; restarted?: boolean } = {}): void {
  if (!o.state && !o.agents) return
  const a = slot.info()
  slot.writes = slot.writes
    .then(async () => {
      if (patch.upsert) {
        await o.agents?.upsert({ id: a.id, role: a.role, driver: a.driver, status: a.status, daemonId: o.owner ?? null, workerId: null, pid: a.pid, sessionId: a.sessionId, workdir: a.cwd, currentTaskId: null, metadata: { kind: "local" } })
      } else {
        await o.agents?.markState(a.id, a.status, { pid: a.pid, sessionId: a.sessionId, currentTaskId: a.taskId, restarted: patch.restarted })
      }
      if (a.status !== "stopped") await writeState(o, a)
    })
    .catch((e: unknown) => log.debug(`pool: state of agent ${a.id} not written: ${(e as Error).message}`))
}

function writeState(o: PoolOptions, a: PoolAgent): Promise<unknown> | undefined {
  return o.state?.setAgent({
    id: a.id,
    role: a.role,
    status: a.status,
    taskId: a.taskId,
    daemonId: o.owner,
    pid: a.pid ?? undefined,
    metadata: { kind: "local", driver: a.driver, restarts: a.restarts, sessionId: a.sessionId, restartAt: a.restartAt },
  })
}

/** A stopped agent leaves the live state (its row in the agents table stays, status stopped). */
export function removeState(o: PoolOptions, slot: Slot, log: Logger): void {
  if (!o.state) return
  slot.writes = slot.writes.then(() => o.state!.removeAgent(slot.id)).catch((e: unknown) => log.debug(`pool: state of agent ${slot.id} not removed: ${(e as Error).message}`))
}

/** Refreshes live agents' state TTL and heartbeat time; an expired state entry is written again. */
export function startHeartbeats(o: PoolOptions, clock: Clock, slots: () => Slot[], log: Logger): Timer | null {
  if ((!o.state && !o.agents) || !o.heartbeatMs) return null
  return clock.setInterval(() => {
    for (const slot of slots()) {
      if (slot.phase !== "ready" && slot.phase !== "starting") continue
      slot.writes = slot.writes
        .then(async () => {
          if (o.state && !(await o.state.heartbeat(slot.id))) await writeState(o, slot.info()) // expired (or Redis came back empty)
          await o.agents?.heartbeat(slot.id)
        })
        .catch((e: unknown) => log.debug(`pool: heartbeat of agent ${slot.id} not written: ${(e as Error).message}`))
    }
  }, o.heartbeatMs)
}
