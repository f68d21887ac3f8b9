import type { Clock, Timer } from "../acp/clock"
import type { Agent, TurnResult } from "../agent/types"
import { CancelledError } from "../errors"
import { TurnTimeoutError } from "./errors"
import type { Slot } from "./slot"

// How one run() ends: the turn's result, or the reason it was cut short
// (timeout, the caller's abort, a stop), after interrupting the turn. The
// interrupted turn's result rides on the error's details. A turn that does
// not end within `graceMs` of its interrupt is given up on (the agent stays
// busy until it does end).

export function settleTurn(o: { slot: Slot; agent: Agent; done: Promise<TurnResult>; timeoutMs: number | undefined; signal: AbortSignal | undefined; clock: Clock; graceMs: number }): Promise<TurnResult> {
  const { slot, agent, done, timeoutMs, signal, clock } = o
  return new Promise<TurnResult>((resolve, reject) => {
    let settled = false
    let reason: ((result?: TurnResult) => Error) | undefined
    let timer: Timer | null = null
    let grace: Timer | null = null
    const finish = (fn: () => void) => {
      if (settled) return
      settled = true
      timer?.cancel()
      grace?.cancel()
      signal?.removeEventListener("abort", onAbort)
      fn()
    }
    const cut = (make: (result?: TurnResult) => Error) => {
      if (settled || reason) return
      reason = make
      slot.log.add("error", make().message, slot.taskId)
      if (!slot.stopping) void agent.interrupt().catch(() => {})
      grace = clock.setTimeout(() => finish(() => reject(make())), o.graceMs)
    }
    const onAbort = () => cut((result) => new CancelledError(`the run on agent ${slot.id} was cancelled`, { hint: "the turn was interrupted", details: result && { result } }))
    slot.cut = cut
    done.then(
      (r) => finish(() => (reason ? reject(reason(r)) : resolve(r))),
      (e: unknown) => finish(() => reject(reason?.() ?? e)),
    )
    const seconds = Math.round((timeoutMs ?? 0) / 1000)
    if (timeoutMs && timeoutMs > 0) timer = clock.setTimeout(() => cut((result) => new TurnTimeoutError(`agent ${slot.id} did not finish within ${seconds} s`, { hint: "the turn was interrupted; give the task more time", details: result && { result } })), timeoutMs)
    signal?.addEventListener("abort", onAbort, { once: true })
  })
}
