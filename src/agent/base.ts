import { Channel } from "./channel"
import { AgentBusyError, AgentStoppedError } from "./errors"
import type { Agent, AgentEvent, AgentStatus, DriverName, Turn, TurnResult, Unsubscribe } from "./types"

// What both drivers share: status, listeners, and the one turn in flight.

type OpenTurn = { channel: Channel<AgentEvent>; resolve: (r: TurnResult) => void; reject: (e: Error) => void; startedAt: number }

export abstract class AgentBase implements Agent {
  abstract readonly driver: DriverName
  abstract readonly pid: number | undefined
  abstract readonly argv: readonly string[]
  protected current: AgentStatus = "starting"
  protected turn: OpenTurn | undefined
  private listeners = new Set<(e: AgentEvent) => void>()

  constructor(
    readonly id: string,
    readonly role: string,
  ) {}

  abstract sessionId(): string
  abstract lastOutput(): string
  abstract start(): Promise<void>
  abstract send(prompt: string): Turn
  abstract interrupt(): Promise<void>
  abstract stop(): Promise<void>

  status(): AgentStatus {
    return this.current
  }

  subscribe(listener: (e: AgentEvent) => void): Unsubscribe {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  protected emit(e: AgentEvent): void {
    this.turn?.channel.push(e)
    for (const l of this.listeners) {
      try {
        l(e)
      } catch {
        // a listener's failure is its own; the agent goes on
      }
    }
  }

  protected setStatus(status: AgentStatus): void {
    if (status === this.current) return
    this.current = status
    this.emit({ type: "status", status })
  }

  /** Opens a turn; the caller then writes the prompt to the process. */
  protected openTurn(): Turn {
    if (this.turn || this.current === "busy") throw new AgentBusyError(`agent ${this.id} is running a turn`)
    if (this.current !== "idle" && this.current !== "waiting") {
      throw new AgentStoppedError(`agent ${this.id} is ${this.current} and cannot take a prompt`, {
        hint: this.current === "starting" ? "wait for start() to resolve" : "start a new agent (or resume its session)",
      })
    }
    const channel = new Channel<AgentEvent>()
    let resolve!: (r: TurnResult) => void
    let reject!: (e: Error) => void
    const done = new Promise<TurnResult>((res, rej) => ((resolve = res), (reject = rej)))
    done.catch(() => {}) // a caller that only iterates events must not see an unhandled rejection
    this.turn = { channel, resolve, reject, startedAt: Date.now() }
    this.setStatus("busy")
    return { events: channel, done }
  }

  protected turnStartedAt(): number | undefined {
    return this.turn?.startedAt
  }

  protected finishTurn(result: TurnResult, next: AgentStatus = "idle"): void {
    const t = this.turn
    if (!t) return
    this.emit({ type: "turn_end", result })
    this.turn = undefined
    t.channel.close()
    t.resolve(result)
    this.setStatus(next)
  }

  protected failTurn(error: Error): void {
    const t = this.turn
    if (!t) return
    this.turn = undefined
    t.channel.close()
    t.reject(error)
  }
}

/** true when `p` settles within `ms`, false when the time runs out first. */
export function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]).finally(() => clearTimeout(timer))
}
