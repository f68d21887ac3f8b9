import { AcpClient } from "../../src/acp/client"
import { AcpConnectionClosedError, AcpTimeoutError, RpcError } from "../../src/acp/errors"
import type { TaskOutcome } from "../../src/acp/protocol"
import { createConsola } from "consola/core"

// Scripted agents for `bench cluster`: ACP clients that behave like `cca
// worker` (src/pool/worker.ts) without Claude Code: accept a task when idle,
// "work" for `workMs`, answer task_result; keep a result the daemon did not
// record and send it again after a reconnect; fail over between the daemons'
// URLs. Every accepted offer is counted, which is how the bench sees a task
// run twice.

export type Fleet = {
  agents: AcpClient[]
  /** Offers accepted per task id (more than one: the task ran twice). */
  accepted: Map<string, number>
  close(): Promise<void>
}

const quiet = createConsola({ level: 0 })

function retryable(e: unknown): boolean {
  if (e instanceof AcpConnectionClosedError || e instanceof AcpTimeoutError) return true
  return e instanceof RpcError && typeof e.data === "object" && e.data !== null && (e.data as { code?: unknown }).code === "unavailable"
}

export async function startFleet(o: { urls: string[]; apiKey: string; count: number; role: string; workMs: number; prefix: string }): Promise<Fleet> {
  const accepted = new Map<string, number>()
  const agents: AcpClient[] = []
  for (let i = 0; i < o.count; i++) {
    // Agent i starts at daemon i mod N, so agents spread over the cluster; the rest of the list is its failover order.
    const urls = o.urls.map((_, k) => o.urls[(i + k) % o.urls.length]!)
    const unsent = new Map<string, TaskOutcome>()
    let busy = false
    const report = async (outcome: TaskOutcome): Promise<void> => {
      unsent.set(outcome.taskId, outcome)
      if (client.state !== "ready") return // sent at the next registration
      try {
        await client.result(outcome)
        unsent.delete(outcome.taskId)
      } catch (e) {
        if (!retryable(e)) unsent.delete(outcome.taskId)
        else if (!(e instanceof AcpConnectionClosedError)) setTimeout(() => void report(outcome), 200)
      }
    }
    const client: AcpClient = new AcpClient({
      url: urls,
      apiKey: o.apiKey,
      agent: { agentId: `${o.prefix}-${i}`, role: o.role, capabilities: ["scripted"] },
      log: quiet,
      requestTimeoutMs: 5000,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.3 },
      handlers: {
        taskAssign: (t) => {
          if (busy) return { accepted: false, reason: "busy" }
          busy = true
          accepted.set(t.taskId, (accepted.get(t.taskId) ?? 0) + 1)
          setTimeout(() => {
            busy = false
            void report({ taskId: t.taskId, status: "completed", output: `done: ${t.title ?? ""}`, tokens: { input: 10, output: 5 }, durationMs: o.workMs })
          }, o.workMs)
          return { accepted: true }
        },
        registered: (_r, again) => {
          if (again) for (const outcome of [...unsent.values()]) void report(outcome)
        },
      },
    })
    await client.connect()
    agents.push(client)
  }
  return {
    agents,
    accepted,
    async close() {
      await Promise.all(agents.map((a) => a.close().catch(() => {})))
    },
  }
}
