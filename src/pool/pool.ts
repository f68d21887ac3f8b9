import { join } from "node:path"
import { systemClock, type Clock, type Timer } from "../acp/clock"
import { createAgent } from "../agent/agent"
import { AgentBusyError, AgentStartError, AgentStoppedError } from "../agent/errors"
import { checkRoleName, listRoles, loadRole } from "../agent/roles"
import { isTerminalAgent, type Agent, type AgentEvent, type TurnResult } from "../agent/types"
import { prepareWorkdir } from "../agent/workdir"
import { CancelledError, ConflictError, isAppError, NotFoundError, UsageError, ValidationError } from "../errors"
import { createLogger, type Logger } from "../log"
import { RoleCircuits, restartDelay } from "./circuit"
import { PoolFullError, RoleDegradedError } from "./errors"
import { lazySandboxes, startOptions, withLastOutput } from "./launch"
import type { PoolOptions } from "./options"
import { persist, removeState, startHeartbeats } from "./persist"
import { Slot } from "./slot"
import { settleTurn } from "./turn"
import type { AgentPool, AttachViewer, LogEntry, PoolAgent, PoolAttachment, PoolEvent, PoolEventType, PoolListener, RoleHealth, RunRequest, SpawnRequest, Unsubscribe } from "./types"

// The pool: spawns agents, supervises them (a crash is the child's exit;
// restart with backoff; a circuit per role), and runs one prompt at a time on
// each. See README.md for the contract.

const AGENT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/
const RETIRED_KEPT = 50
/** Broadcasts kept per agent until its next prompt. */
const INBOX_LIMIT = 20

/** After interrupting a turn (timeout, cancel), how long it may take to end before run() gives up on it. */
const CUT_GRACE_MS = 5_000

const randomSuffix = () => Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0")).join("")

export function createPool(options: PoolOptions): Pool {
  return new Pool(options)
}

export class Pool implements AgentPool {
  private readonly slots = new Map<string, Slot>()
  private readonly retired = new Map<string, Slot>()
  private readonly listeners = new Map<string, Set<(e: PoolEvent) => void>>()
  private readonly circuits: RoleCircuits
  private readonly clock: Clock
  private readonly log: Logger
  private readonly heartbeat: Timer | null
  private readonly sandboxes: ReturnType<typeof lazySandboxes>
  private closing = false

  constructor(private readonly o: PoolOptions) {
    this.clock = o.clock ?? systemClock
    this.log = o.log ?? createLogger("pool")
    this.circuits = new RoleCircuits(o.circuit)
    this.sandboxes = lazySandboxes(o, this.log)
    this.heartbeat = startHeartbeats(o, this.clock, () => [...this.slots.values()], this.log)
  }

  // ---- reading ----

  list(filter: { role?: string } = {}): PoolAgent[] {
    return [...this.slots.values()].filter((s) => filter.role === undefined || s.role === filter.role).map((s) => s.info())
  }

  get(id: string): PoolAgent | undefined {
    return (this.slots.get(id) ?? this.retired.get(id))?.info()
  }

  capacity(): { agents: number; max: number } {
    return { agents: this.slots.size, max: this.o.maxAgents }
  }

  idle(role?: string): PoolAgent[] {
    return this.list({ role }).filter((a) => a.status === "idle")
  }

  roles(): RoleHealth[] {
    return this.circuits.health(this.clock.now())
  }

  canSpawn(role: string): ReturnType<AgentPool["canSpawn"]> {
    if (!listRoles(this.o.rolesDir).includes(role)) return { ok: false, code: "unknown_role", reason: `no role named ${role} (roles: ${listRoles(this.o.rolesDir).join(", ")})` }
    if (this.slots.size >= this.o.maxAgents) return { ok: false, code: "pool_full", reason: `the pool is full: ${this.slots.size} of agents.max_agents = ${this.o.maxAgents} agents` }
    if (this.circuits.isOpen(role, this.clock.now())) {
      const h = this.roles().find((r) => r.role === role)
      return { ok: false, code: "role_degraded", reason: `role ${role} is degraded: ${h?.reason ?? "repeated crashes"}; retried at ${h?.retryAt}` }
    }
    return { ok: true }
  }

  logs(id: string, opts: { after?: number; limit?: number } = {}) {
    return this.slot(id, true).log.read(opts.after, opts.limit)
  }

  watchLogs(id: string, fn: (e: LogEntry) => void): Unsubscribe {
    return this.slot(id, true).log.watch(fn)
  }

  on<T extends PoolEventType>(type: T | "*", listener: PoolListener<T>): Unsubscribe {
    const set = this.listeners.get(type) ?? new Set()
    set.add(listener as (e: PoolEvent) => void)
    this.listeners.set(type, set)
    return () => set.delete(listener as (e: PoolEvent) => void)
  }

  // ---- spawn and stop ----

  async spawn(req: SpawnRequest): Promise<PoolAgent> {
    if (this.closing) throw new ConflictError("the pool is shutting down", { hint: "start the daemon again" })
    checkRoleName(req.role)
    const id = req.id ?? `${req.role}-${randomSuffix()}`
    if (!AGENT_ID.test(id)) throw new ValidationError(`invalid agent id ${JSON.stringify(id)}`, { hint: "lowercase letters, digits, - and _, starting with a letter or digit (at most 63)" })
    if (this.slots.has(id)) throw new ConflictError(`agent ${id} already exists`, { hint: "choose another id, or stop that agent first" })
    const can = this.canSpawn(req.role)
    if (!can.ok) {
      if (can.code === "pool_full") throw new PoolFullError(can.reason, { hint: "stop an agent (`cca agents stop ID`) or raise agents.max_agents in cca.toml" })
      if (can.code === "role_degraded") throw new RoleDegradedError(can.reason, { hint: "see the role's crashes in `cca agents logs ID` of its agents; it is tried again after agents.circuit_cooldown_s" })
      throw new NotFoundError(can.reason, { hint: `write ${join(this.o.rolesDir ?? "~/.config/cca/roles", `${req.role}.md`)} for a custom role` })
    }
    const driver = req.driver ?? this.o.driver
    if (driver === "pty" && !this.o.hookUrl) throw new UsageError("the pty driver needs the daemon's hook route, which this pool has not got", { hint: "spawn pty agents through the daemon, or use the stream driver" })

    // The slot is taken before anything is awaited, so concurrent spawns cannot pass max_agents.
    const slot = new Slot(id, req.role, driver, this.o.workspace, join(this.o.stateRoot, id), this.o.logEntries, () => this.clock.now())
    this.slots.set(id, slot)
    this.retired.delete(id)
    try {
      slot.rolePrompt = (await loadRole(req.role, this.o.rolesDir)).prompt
      slot.cwd = (await prepareWorkdir({ workspace: this.o.workspace, agentId: id, worktree: this.o.worktrees, worktreesDir: this.o.worktreesDir })).cwd
      slot.log.add("lifecycle", `spawning a ${driver} agent of role ${req.role} in ${slot.cwd}`)
      persist(this.o, slot, this.log, { upsert: true })
      await this.launch(slot)
    } catch (e) {
      this.slots.delete(id)
      slot.phase = "stopped"
      this.retire(slot)
      slot.log.add("error", `spawn failed: ${(e as Error).message}`)
      if (e instanceof AgentStartError && !slot.stopping) this.countCrash(slot, e.message)
      persist(this.o, slot, this.log)
      if (slot.stopping) throw new AgentStoppedError(`agent ${id} was stopped while it started`, { cause: e })
      throw withLastOutput(e)
    }
    if (slot.stopping) throw new AgentStoppedError(`agent ${id} was stopped while it started`)
    this.becameReady(slot, false)
    return slot.info()
  }

  async stop(id: string): Promise<PoolAgent> {
    const slot = this.slots.get(id)
    if (!slot) {
      const gone = this.retired.get(id)
      if (gone) return gone.info()
      throw new NotFoundError(`no agent ${id} in this pool`, { hint: "list agents with `cca agents list`" })
    }
    if (!slot.stopping) {
      slot.stopping = true
      slot.restartTimer?.cancel()
      slot.restartTimer = null
      slot.restartAt = null
      const what = slot.taskId ? `task ${slot.taskId}` : "a prompt"
      slot.cut?.((result) => new AgentStoppedError(`agent ${id} was stopped while it ran ${what}`, { hint: "the task goes back to the queue", details: result && { result } }))
      slot.log.add("lifecycle", "stopping")
      this.announce(slot)
    }
    await slot.agent?.stop()
    if (slot.phase !== "stopped") {
      slot.phase = "stopped"
      slot.running = false
      slot.taskId = null
      this.slots.delete(id)
      this.retire(slot)
      for (const v of slot.viewers) v.notice({ type: "stopped" })
      slot.viewers.clear()
      slot.log.add("lifecycle", "stopped")
      this.announce(slot)
      removeState(this.o, slot, this.log)
      this.emit({ type: "stopped", agentId: id, role: slot.role })
    }
    return slot.info()
  }

  async flush(id?: string): Promise<void> {
    if (id !== undefined) return void (await (this.slots.get(id) ?? this.retired.get(id))?.writes)
    await Promise.all([...this.slots.values(), ...this.retired.values()].map((s) => s.writes))
  }

  async close(): Promise<void> {
    this.closing = true
    this.heartbeat?.cancel()
    await Promise.all([...this.slots.keys()].map((id) => this.stop(id).catch((e: unknown) => this.log.warn(`stopping agent ${id} failed: ${(e as Error).message}`))))
    await this.flush()
  }

  // ---- running prompts ----

  send(agentId: string, message: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<TurnResult> {
    return this.run(agentId, { prompt: message, taskId: null, timeoutMs: opts.timeoutMs }, opts.signal)
  }

  deliver(b: { from: string; message: string; role?: string; to?: string }): string[] {
    const from = b.from.replace(/\/mcp$/, "") // an agent's broadcast comes through its MCP bridge
    const got: string[] = []
    for (const slot of this.slots.values()) {
      if (slot.id === from || (b.to !== undefined && slot.id !== b.to) || (b.role !== undefined && slot.role !== b.role)) continue
      if (!["idle", "busy", "waiting", "starting", "restarting"].includes(slot.status())) continue
      slot.inbox.push(`<broadcast from="${from.replace(/[^\w./:-]/g, "_")}">${b.message.slice(0, 4000)}</broadcast>`)
      if (slot.inbox.length > INBOX_LIMIT) slot.inbox.splice(0, slot.inbox.length - INBOX_LIMIT)
      slot.log.add("lifecycle", `broadcast from ${from}: ${b.message.slice(0, 200)}`)
      got.push(slot.id)
    }
    return got
  }

  async run(agentId: string, req: RunRequest, signal?: AbortSignal): Promise<TurnResult> {
    const slot = this.slot(agentId, false)
    const agent = slot.agent
    const status = slot.status()
    if (status !== "idle" || !agent) throw new AgentBusyError(`agent ${agentId} is ${status}`, { hint: status === "busy" ? "wait for its turn to end, or pick an idle agent (`cca agents list`)" : "wait until it is idle" })
    if (signal?.aborted) throw new CancelledError(`the run on agent ${agentId} was cancelled before it started`)
    const taskId = req.taskId ?? null
    // Broadcasts that came since the last prompt go in front of this one.
    const prompt = slot.inbox.length > 0 ? `<cca-broadcasts>\n${slot.inbox.join("\n")}\n</cca-broadcasts>\n\n${req.prompt}` : req.prompt
    const inbox = slot.inbox.splice(0)
    slot.running = true
    slot.taskId = taskId
    let done: Promise<TurnResult>
    try {
      done = agent.send(prompt).done
    } catch (e) {
      slot.inbox.unshift(...inbox)
      slot.running = false
      slot.taskId = null
      throw e
    }
    slot.log.add("prompt", prompt, taskId)
    this.announce(slot)
    try {
      return await settleTurn({ slot, agent, done, timeoutMs: req.timeoutMs, signal, clock: this.clock, graceMs: CUT_GRACE_MS })
    } finally {
      if (slot.agent === agent && slot.running) {
        slot.running = false
        slot.taskId = null
        slot.cut = undefined
        this.announce(slot)
      }
    }
  }

  // ---- pty ----

  attach(id: string, viewer: AttachViewer): PoolAttachment {
    const slot = this.slot(id, false)
    if (slot.driver !== "pty") throw new ConflictError(`agent ${id} runs the stream driver, which has no terminal to attach to`, { hint: `spawn a pty agent: cca agents spawn --role ${slot.role} --driver pty` })
    const agent = slot.agent
    let replay = ""
    if (agent && isTerminalAgent(agent)) {
      const a = agent.attach(() => {})
      a.detach() // live output reaches viewers through the slot, across restarts
      replay = a.replay
      slot.size = agent.size()
    }
    slot.viewers.add(viewer)
    const terminal = () => (slot.agent && isTerminalAgent(slot.agent) ? slot.agent : undefined)
    return {
      replay,
      cols: slot.size.cols,
      rows: slot.size.rows,
      write: (data) => terminal()?.write(data),
      resize: (cols, rows) => {
        terminal()?.resize(cols, rows)
        slot.size = { cols, rows }
      },
      detach: () => void slot.viewers.delete(viewer),
    }
  }

  async hook(id: string, payload: unknown): Promise<void> {
    const slot = this.slot(id, false)
    const agent = slot.agent
    if (!agent || !isTerminalAgent(agent)) throw new ConflictError(`agent ${id} takes no hooks (driver ${slot.driver})`, { hint: "hooks are for pty agents" })
    await agent.hook(payload)
  }

  // ---- supervision ----

  private async launch(slot: Slot): Promise<void> {
    const agent = await createAgent(await startOptions(this.o, slot, this.log, this.sandboxes))
    slot.off?.()
    slot.agent = agent
    slot.agentTurn = slot.agentWaiting = false
    slot.off = agent.subscribe((e) => this.onAgentEvent(slot, agent, e))
    slot.phase = "starting"
    this.announce(slot)
    await agent.start()
  }

  private onAgentEvent(slot: Slot, agent: Agent, e: AgentEvent): void {
    if (slot.agent !== agent) return
    slot.log.event(e, slot.taskId)
    switch (e.type) {
      case "output":
        for (const v of slot.viewers) v.data(e.data)
        return
      case "status":
        if (e.status === "busy") slot.agentTurn = true
        else if (e.status === "idle" || e.status === "crashed" || e.status === "stopped") slot.agentTurn = false
        slot.agentWaiting = e.status === "waiting"
        if (slot.phase === "ready") this.announce(slot)
        return
      case "exit":
        slot.lastOutput = e.lastOutput
        for (const v of slot.viewers) v.notice({ type: "exit", code: e.code, signal: e.signal, crashed: e.crashed })
        // A start that fails is reported by start() itself; a stop is the stop's business.
        if (e.crashed && !slot.stopping && slot.phase === "ready") this.crashed(slot, e.code, e.signal, e.lastOutput)
        return
    }
  }

  private crashed(slot: Slot, code: number | null, signal: string | null, lastOutput: string): void {
    const taskId = slot.taskId
    const delay = this.countCrash(slot, signal ? `killed by ${signal}` : `exit code ${code}`)
    slot.phase = "restarting"
    slot.readyAt = null
    slot.log.add("lifecycle", `crashed${taskId ? ` while running task ${taskId}` : ""}; restarting in ${delay} ms`, taskId)
    this.announce(slot)
    this.emit({ type: "crashed", agentId: slot.id, role: slot.role, taskId, code, signal, lastOutput, restartInMs: delay })
  }

  /** Counts a crash (or failed start) against the agent's backoff and its role's circuit; schedules the restart of a live slot. */
  private countCrash(slot: Slot, reason: string): number {
    const now = this.clock.now()
    slot.streak = slot.readyAt !== null && now - slot.readyAt >= this.o.stableMs ? 1 : slot.streak + 1
    const c = this.circuits.crash(slot.role, now, reason)
    if (c.opened) {
      const retryAt = new Date(c.retryAt!).toISOString()
      this.log.warn(`role ${slot.role} is degraded after repeated crashes; retried at ${retryAt}`)
      this.emit({ type: "degraded", role: slot.role, reason, retryAt })
    }
    const delay = Math.max(restartDelay(slot.streak, this.o.restartBaseMs, this.o.restartMaxMs), this.circuits.retryAt(slot.role, now) - now)
    if (this.slots.get(slot.id) === slot && !slot.stopping && !this.closing) {
      slot.restartAt = now + delay
      slot.restartTimer = this.clock.setTimeout(() => void this.restart(slot), delay)
    }
    return delay
  }

  private async restart(slot: Slot): Promise<void> {
    slot.restartTimer = null
    if (slot.stopping || this.closing) return
    const now = this.clock.now()
    const at = this.circuits.retryAt(slot.role, now)
    if (at > now) {
      slot.restartAt = at
      slot.restartTimer = this.clock.setTimeout(() => void this.restart(slot), at - now)
      return
    }
    slot.restartAt = null
    slot.log.add("lifecycle", "restarting")
    try {
      await this.launch(slot)
    } catch (e) {
      if (slot.stopping) return
      slot.phase = "restarting"
      const message = isAppError(e) ? e.message : String(e)
      slot.lastOutput = ((isAppError(e) && (e.details as { lastOutput?: string } | undefined)?.lastOutput) || message).slice(-2_000)
      const delay = this.countCrash(slot, message)
      slot.log.add("error", `restart failed: ${message}; next try in ${delay} ms`)
      this.announce(slot)
      this.emit({ type: "crashed", agentId: slot.id, role: slot.role, taskId: null, code: null, signal: null, lastOutput: slot.lastOutput, restartInMs: delay })
      return
    }
    if (slot.stopping) return
    slot.restarts++
    this.becameReady(slot, true)
  }

  private becameReady(slot: Slot, restarted: boolean): void {
    slot.phase = "ready"
    slot.readyAt = this.clock.now()
    slot.log.add("lifecycle", `${restarted ? `restarted (${slot.restarts})` : "ready"}: pid ${slot.agent?.pid}, session ${slot.agent?.sessionId()}`)
    if (this.circuits.ready(slot.role)) {
      this.log.info(`role ${slot.role} is healthy again`)
      this.emit({ type: "recovered", role: slot.role })
    }
    if (restarted) for (const v of slot.viewers) v.notice({ type: "restarted", cols: slot.size.cols, rows: slot.size.rows })
    this.announce(slot, { restarted })
    if (restarted) this.emit({ type: "restarted", agentId: slot.id, role: slot.role, restarts: slot.restarts })
    this.emit({ type: "ready", agentId: slot.id, role: slot.role, restarted })
  }

  /** Writes the slot's status to the state store and agents table, and announces busy/idle when it changed. */
  private announce(slot: Slot, patch: { restarted?: boolean } = {}): void {
    const status = slot.status()
    const previous = slot.announced
    if (status === previous && !patch.restarted) return
    slot.announced = status
    persist(this.o, slot, this.log, patch)
    if (status === "busy" && previous !== "busy" && previous !== "waiting") this.emit({ type: "busy", agentId: slot.id, role: slot.role, taskId: slot.taskId })
    if (status === "idle" && (previous === "busy" || previous === "waiting")) this.emit({ type: "idle", agentId: slot.id, role: slot.role })
  }

  private emit(e: PoolEvent): void {
    for (const key of [e.type, "*"]) {
      for (const l of this.listeners.get(key) ?? []) {
        try {
          l(e)
        } catch (err) {
          this.log.warn(`a pool listener of ${e.type} failed: ${(err as Error).message}`)
        }
      }
    }
  }

  private slot(id: string, orRetired: boolean): Slot {
    const s = this.slots.get(id) ?? (orRetired ? this.retired.get(id) : undefined)
    if (s) return s
    if (this.retired.has(id)) throw new ConflictError(`agent ${id} is stopped`, { hint: "spawn a new agent (`cca agents spawn --role ROLE`)" })
    throw new NotFoundError(`no agent ${id} in this pool`, { hint: "list agents with `cca agents list`" })
  }

  private retire(slot: Slot): void {
    this.retired.set(slot.id, slot)
    for (const key of this.retired.keys()) {
      if (this.retired.size <= RETIRED_KEPT) break
      this.retired.delete(key)
    }
  }
}
