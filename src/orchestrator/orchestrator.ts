import { systemClock, type Clock, type Timer } from "../acp/clock"
import { ConflictError, NotFoundError } from "../errors"
import type { Logger } from "../log"
import type { AgentPool } from "../pool/types"
import type { StateStore } from "../state/types"
import type { Store } from "../store/store"
import type { NewTask, TaskFilter, TaskPage } from "../store/tasks"
import { FINAL_STATUSES, type Task, type TaskError, type TaskEvent, type Transition } from "../store/task-types"
import { childEnded, openDescendants, parentFor } from "./coordination"
import { Dispatcher } from "./dispatcher"
import { TaskEventBus, eventJson, waitForEnd } from "./events"
import type { Executor, Outcome, Progress, TaskSink, Worker } from "./executor"
import { LocalExecutor } from "./local"
import type { Decision } from "./experiences"
import { RoutingRecords, type AttemptResult } from "./records"
import { Reports } from "./reports"
import { RunningTasks, type Running } from "./running"
import { RemoteExecutor, type AcpPort } from "./remote"
import { HeuristicRouter, type Router } from "./router"
import { checkTaskRole } from "./task-roles"
import { EndHooks, PromptRejected, type PromptStage, type TaskEndHook } from "./stages"

// The task lifecycle. A created task is persisted with the role the router
// gives it, dispatched (dispatcher.ts: routed to an idle agent of a local or
// remote executor, or a new agent is spawned, or it waits), run with a
// timeout, and finished with its result, tokens, cost and duration. Every
// transition is one store statement whose event goes to the state bus (SSE
// clients of any daemon), and to the agent that delegated the task (ACP).
// An attempt whose agent dies is requeued (up to max_attempts) and goes to
// another agent. Every routing decision is recorded with its reward
// (records.ts) for the learned router.

export type OrchestratorOptions = {
  store: Store
  state: StateStore
  /** The ACP server: remote agents, and notifications to delegating agents. */
  acp: AcpPort & { message?: (p: { to: string; message: string; data?: unknown; from?: string }) => boolean }
  /** The local agent pool, when this daemon runs one. */
  pool?: AgentPool
  /** This daemon's id: the owner of the tasks it claims. */
  owner: string
  log: Logger
  /** Default task timeout (tasks.timeout_s); 0 = none. A task's own timeoutMs wins. */
  taskTimeoutMs: number
  /** Default max attempts of new tasks (tasks.max_attempts). */
  maxAttempts: number
  /** Deepest delegation allowed (tasks.max_depth): a root is depth 0. Default 3. */
  maxDepth?: number
  /** agents.max_agents, for scaling the routing features. Default 8. */
  maxAgents?: number
  /** learning.token_budget: budget tokens per attempt for the +0.2 reward. Default 50,000. */
  tokenBudget?: number
  /** learning.baseline_s in ms: the duration baseline until a role has a median. Default 60 s. */
  baselineMs?: number
  /** Role of an agent spawned for a task no role was found for. Default backend. */
  defaultRole?: string
  router?: Router
  clock?: Clock
  /** How often pending tasks are looked for without a trigger (backoff expiry, other daemons). */
  tickMs?: number
  /** After an agent refuses a task it is not offered another for this long. */
  refusalCooldownMs?: number
  /** After a failed spawn, that role is not spawned again for this long. */
  spawnRetryMs?: number
  /** What shapes a prompt before an agent gets it, in order (stages.ts). */
  stages?: readonly PromptStage[]
  /** What hears every task that ended (stages.ts). */
  endHooks?: readonly TaskEndHook[]
  /**
   * Roles a task may name besides live and known remote agents' roles (task-roles.ts): built-in roles,
   * role files the pool may start, tasks.roles (`*`: any). Unset: any role is accepted.
   */
  roles?: () => readonly string[]
}

export type CreateTask = Pick<NewTask, "description" | "prompt" | "role" | "priority" | "coordinate" | "parentId" | "maxAttempts" | "timeoutMs" | "metadata" | "source">

const isFinal = (t: Task) => FINAL_STATUSES.includes(t.status)

export class Orchestrator implements TaskSink {
  readonly bus: TaskEventBus
  readonly router: Router
  readonly owner: string
  readonly records: RoutingRecords
  readonly executors: Executor[]
  readonly local: LocalExecutor | undefined
  readonly remote: RemoteExecutor
  readonly maxDepth: number
  readonly log: Logger
  readonly clock: Clock
  readonly store: Store
  readonly stages: readonly PromptStage[]
  private readonly endHooks: EndHooks
  private readonly dispatcher: Dispatcher
  private readonly running: RunningTasks
  private readonly reports = new Reports(this)
  /** Agents that lost a task, per task: the router prefers others for its next attempt. */
  readonly tried = new Map<string, Set<string>>()
  /** Tasks created here whose `created` event has not come back over the bus yet. */
  private readonly ownCreated = new Set<string>()
  /** Tasks that delegated in this daemon's life: their completion carries an aggregate. */
  private readonly parents = new Set<string>()
  /** Whether a task delegated in this daemon's life. */
  delegated = (taskId: string): boolean => this.parents.has(taskId)
  private ticker: Timer | null = null
  private stopped = false

  constructor(private readonly opts: OrchestratorOptions) {
    this.store = opts.store
    this.owner = opts.owner
    this.log = opts.log
    this.clock = opts.clock ?? systemClock
    this.running = new RunningTasks(this.clock)
    this.router = opts.router ?? new HeuristicRouter()
    this.maxDepth = opts.maxDepth ?? 3
    this.stages = opts.stages ?? []
    this.endHooks = new EndHooks(opts.endHooks ?? [], opts.log)
    this.bus = new TaskEventBus(opts.state)
    this.records = new RoutingRecords({ db: opts.store.sql, log: opts.log, tokenBudget: opts.tokenBudget ?? 50_000, baselineMs: opts.baselineMs ?? 60_000, maxDepth: this.maxDepth, maxAgents: opts.maxAgents ?? 8 })
    this.remote = new RemoteExecutor(opts.acp)
    this.local = opts.pool ? new LocalExecutor(opts.pool, this, opts.log, opts.defaultRole) : undefined
    this.executors = this.local ? [this.local, this.remote] : [this.remote]
    this.dispatcher = new Dispatcher(this, { defaultRole: opts.defaultRole ?? "backend", refusalCooldownMs: opts.refusalCooldownMs ?? 5000, spawnRetryMs: opts.spawnRetryMs ?? 5000 })
  }

  async start(): Promise<void> {
    await this.records.loadHistory()
    await this.bus.start()
    // Tasks created or requeued elsewhere (other daemons, on Redis) may be waiting for an agent here.
    this.bus.on("*", (e) => {
      if (e.type === "created" && this.ownCreated.delete(e.taskId)) return // known already: createTask noted it
      if (e.type === "created" || e.type === "requeued") {
        this.dispatcher.noteWork()
        void this.dispatch() // an idle agent here may take it now, not at the next tick (rounds fold together)
      }
    })
    this.ticker = this.clock.setInterval(() => {
      this.dispatcher.noteWork() // backoffs that ran out, tasks seen by no event
      void this.dispatch()
    }, this.opts.tickMs ?? 2000)
  }

  /** Tasks this daemon has handed to agents and not seen finish. */
  get inFlight(): number {
    return this.running.size
  }

  get isStopped(): boolean {
    return this.stopped
  }

  // ---- the domain functions HTTP routes, CLI, MCP and ACP share ----

  async createTask(input: CreateTask): Promise<Task> {
    if (this.opts.roles) await checkTaskRole(input.role, { configured: this.opts.roles, workers: () => this.workers(), sql: this.store.sql })
    const parent = input.parentId ? await parentFor(this.store.sql, input.parentId, this.maxDepth) : undefined
    const classifyInput = { description: input.description, prompt: input.prompt, role: input.role, coordinate: input.coordinate, depth: parent ? parent.depth + 1 : 0 }
    const decision = this.router.classify(classifyInput)
    // Routing facts that cost an await (the learned router's text vector) are made once, here, and kept with the task.
    const prepared = decision.reason === "explicit" || decision.reason === "coordinate" ? undefined : await this.router.prepare?.(classifyInput)
    const t = await this.store.tasks.create({
      ...input,
      role: decision.role,
      coordinate: decision.coordinate,
      maxAttempts: input.maxAttempts ?? this.opts.maxAttempts,
      metadata: { ...input.metadata, routing: { role: decision.role, reason: decision.reason, scores: decision.scores, ...prepared } },
    })
    if (parent) this.parents.add(parent.id)
    this.dispatcher.noteWork(t.task)
    this.ownCreated.add(t.task.id)
    if (this.ownCreated.size > 10_000) this.ownCreated.clear() // a bus that never delivers must not grow this
    await this.publish(t.event, t.task)
    void this.dispatch()
    return t.task
  }

  async getTask(id: string): Promise<Task> {
    const task = await this.store.tasks.get(id)
    if (!task) throw new NotFoundError(`no task ${id}`, { hint: "list tasks with `cca task list`" })
    return task
  }

  listTasks(filter: TaskFilter): Promise<TaskPage> {
    return this.store.tasks.list(filter)
  }

  async taskEvents(id: string, afterId = 0, limit = 1000): Promise<TaskEvent[]> {
    return this.store.events.list(id, { afterId, limit })
  }

  /** Cancel a pending or running task and everything it delegated that is still open; a running agent is interrupted. */
  async cancelTask(id: string, reason = "cancelled by request"): Promise<Task> {
    const t = await this.cancelOne(id, reason)
    if (!t) {
      const task = await this.getTask(id)
      throw new ConflictError(`task ${id} is already ${task.status}`, { hint: "only pending or running tasks can be cancelled" })
    }
    for (const child of await openDescendants(this.store.sql, id)) await this.cancelOne(child, `parent task ${id} was cancelled`)
    void this.dispatch()
    return t.task
  }

  private async cancelOne(id: string, reason: string): Promise<Transition | undefined> {
    const t = await this.store.tasks.cancel(id, reason)
    if (!t) return undefined
    this.dispatcher.dropWork(id)
    const entry = this.forget(id)
    if (entry) {
      entry.executor.cancel(entry.agentId, id, reason)
      this.settle(entry, { end: "cancelled", code: "cancelled" })
    } else if (t.previousStatus === "running" && t.task.agentId) {
      this.remote.cancel(t.task.agentId, id, reason) // running here before a restart, or on another daemon's agent
    }
    await this.publish(t.event, t.task)
    await this.ended(t.task)
    return t
  }

  // ---- dispatch ----

  dispatch(): Promise<void> {
    return this.stopped ? Promise.resolve() : this.dispatcher.dispatch()
  }

  /** Every agent of every executor. */
  workers(): Worker[] {
    return this.executors.flatMap((e) => e.workers())
  }

  executorOf(agentId: string): Executor | undefined {
    return this.executors.find((e) => e.workers().some((w) => w.id === agentId))
  }

  /** Remember a running task of this daemon and arm its timeout. */
  track(task: Task, agentId: string, executor: Executor, decision?: Decision, accepted = false): Running {
    return this.running.track(task, agentId, executor, { decision, accepted, timeoutMs: task.timeoutMs ?? this.opts.taskTimeoutMs, onTimeout: (e) => void this.timeout(e) })
  }

  /** Stop tracking a task; returns what was tracked. */
  forget(taskId: string): Running | undefined {
    return this.running.forget(taskId)
  }

  entry(taskId: string): Running | undefined {
    return this.running.get(taskId)
  }

  /** Agents with a task of this daemon (or an offer in flight). */
  busyAgents(): Set<string> {
    return this.running.agents()
  }

  private async timeout(entry: Running): Promise<void> {
    const taskId = entry.task.id
    const timeoutMs = entry.task.timeoutMs ?? this.opts.taskTimeoutMs
    const t = await this.store.tasks.fail(taskId, { code: "timeout", message: `no result within ${Math.round(timeoutMs / 1000)} s`, hint: "raise tasks.timeout_s or the task's timeoutMs" }, { attempt: entry.attempt })
    this.forget(taskId)
    entry.executor.cancel(entry.agentId, taskId, "timeout")
    if (t) {
      this.settle(entry, { end: "failed", code: "timeout", durationMs: timeoutMs })
      await this.publish(t.event, t.task)
      await this.ended(t.task)
    }
    this.agentState(entry.agentId, "idle", null)
    void this.dispatch()
  }

  /** Put a task of `agentId` back in the queue (fenced by the attempt it had), or fail it when its attempts are used up. */
  async requeue(taskId: string, agentId: string, reason: TaskError, delayMs = 0): Promise<Transition | undefined> {
    const entry = this.running.get(taskId)
    let attempt = entry?.agentId === agentId ? entry.attempt : undefined
    if (attempt === undefined) {
      const task = await this.store.tasks.get(taskId)
      if (!task || task.status !== "running" || task.agentId !== agentId) return undefined
      attempt = task.attempts
    }
    const t = await this.store.tasks.requeue(taskId, { reason, attempt, delayMs })
    if (t) this.dispatcher.noteWork()
    const mine = this.running.get(taskId)?.agentId === agentId ? this.forget(taskId) : undefined
    ;(mine?.executor ?? this.executorOf(agentId) ?? this.remote).release(agentId, taskId)
    if (!t) return undefined
    const tried = this.tried.get(taskId) ?? new Set<string>()
    tried.add(agentId)
    this.tried.set(taskId, tried)
    if (mine) this.settle(mine, { end: t.task.status === "failed" ? "failed" : "requeued", code: reason.code })
    await this.publish(t.event, t.task)
    if (isFinal(t.task)) await this.ended(t.task)
    return t
  }

  /**
   * A prompt stage refused the task (stages.ts): it fails for good with the
   * stage's error. Not the agent's doing, so no routing record is written.
   */
  async rejected(entry: Running, e: PromptRejected): Promise<void> {
    const taskId = entry.task.id
    if (this.running.get(taskId) !== entry) return
    entry.decision = undefined
    this.forget(taskId)
    entry.executor.release(entry.agentId, taskId)
    const t = await this.store.tasks.fail(taskId, { code: e.code, message: e.message, hint: e.hint, details: e.details }, { attempt: entry.attempt })
    if (!t) return
    await this.publish(t.event, t.task)
    await this.ended(t.task)
  }

  /** Wait for the end hooks running now (tests, drain). */
  flushEndHooks(): Promise<void> {
    return this.endHooks.flush()
  }

  // ---- what executors report (TaskSink; reports.ts) ----

  progress(agentId: string, p: Progress): void {
    this.reports.progress(agentId, p)
  }

  result(agentId: string, outcome: Outcome, opts: { retry?: boolean } = {}): Promise<void> {
    return this.reports.result(agentId, outcome, opts)
  }

  async lost(agentId: string, taskIds: readonly string[], reason: TaskError): Promise<void> {
    for (const id of taskIds) await this.requeue(id, agentId, reason)
    void this.dispatch()
  }

  changed(): void {
    void this.dispatch()
  }

  /** The attempt `agentId` holds of a task, or undefined when the task is not (or no longer) its. */
  async attemptOf(taskId: string, agentId: string): Promise<number | undefined> {
    const entry = this.running.get(taskId)
    if (entry) return entry.agentId === agentId ? entry.attempt : undefined
    const task = await this.store.tasks.get(taskId)
    return task?.status === "running" && task.agentId === agentId && task.ownerDaemon === this.owner ? task.attempts : undefined
  }

  // ---- records, coordination, events ----

  /**
   * Record the routing decision of an attempt with its reward. In the
   * background: the task's event does not wait for it (records.flush() does).
   */
  settle(entry: Running, r: AttemptResult): void {
    const d = entry.decision
    if (!d) return
    const next = this.records.state(entry.task, this.records.poolView(this.workers(), this.busyAgents(), this.local?.canSpawn() ?? false, 0), entry.attempt)
    this.records.settle(d, r, next, (reward, outcome) => this.router.observe?.({ taskId: d.taskId, agentId: entry.agentId, role: d.action, reward, done: r.end !== "requeued", decision: d, next, outcome }))
  }

  /** A task reached a final status: forget its retries; if it is a subtask, tell its parent. */
  async ended(task: Task): Promise<void> {
    this.tried.delete(task.id)
    if (this.endHooks.size > 0) this.endHooks.fire(task)
    if (task.parentId) await childEnded(this.store, task, (e, parent) => this.publish(e, parent))
  }

  async publish(e: TaskEvent, task?: Task): Promise<void> {
    try {
      await this.bus.publish(e)
    } catch (err) {
      this.log.warn(`publishing task event ${e.id} failed: ${(err as Error).message}`) // SSE clients replay from the store
    }
    const delegator = task?.metadata.delegatedBy
    if (typeof delegator === "string" && this.opts.acp.message) {
      // The agent that delegated the task hears of every step (on its own ACP connection and on its MCP bridge's).
      const notice = { from: "cca", message: `task ${e.taskId} ${e.type}`, data: { taskEvent: eventJson(e) } }
      this.opts.acp.message({ ...notice, to: delegator })
      this.opts.acp.message({ ...notice, to: `${delegator}/mcp` })
    }
  }

  /** Mirror a remote agent's status to the shared state (local agents are the pool's to mirror). Best effort. */
  agentState(agentId: string, status: string, taskId: string | null): void {
    const agent = this.opts.acp.agent(agentId)
    if (!agent) return
    this.opts.state.setAgent({ id: agentId, role: agent.role, status, taskId, daemonId: this.owner }).catch((e: unknown) => this.log.debug(`state: ${(e as Error).message}`))
  }

  /** Wait for a task to end (completed, failed or cancelled); the task, or undefined on timeout or abort. */
  waitFor(taskId: string, timeoutMs: number, signal?: AbortSignal): Promise<Task | undefined> {
    return waitForEnd(this.bus, this.clock, () => this.store.tasks.get(taskId), taskId, timeoutMs, signal)
  }

  // ---- lifecycle ----

  /**
   * Graceful stop: no new offers; running tasks get `graceMs` to report, then
   * the ones left are requeued for whichever daemon runs next (remote agents
   * keep working and claim them back when they reconnect).
   */
  async drain(graceMs: number): Promise<{ requeued: number }> {
    this.stopped = true
    this.ticker?.cancel()
    await this.running.whenEmpty(graceMs)
    for (const id of this.running.ids()) this.forget(id)
    this.local?.close()
    const requeued = await this.store.tasks.requeueRunning({ owner: this.owner }, { reason: { code: "daemon_shutdown", message: `daemon ${this.owner} shut down while the task was running` } })
    for (const t of requeued) await this.publish(t.event, t.task)
    await this.records.flush()
    await this.endHooks.flush()
    return { requeued: requeued.length }
  }

  /**
   * Transitions made outside the task sink (tasks adopted from a dead daemon, or requeued at start from
   * this daemon's killed predecessor): publish them, end what ended, look for work. `always`: look for
   * work even when nothing moved (at start: tasks that were pending before the restart).
   */
  async absorb(transitions: readonly Transition[], o: { always?: boolean } = {}): Promise<void> {
    for (const t of transitions) {
      await this.publish(t.event, t.task)
      if (isFinal(t.task)) await this.ended(t.task)
    }
    if (transitions.length > 0 || o.always) {
      this.dispatcher.noteWork()
      void this.dispatch()
    }
  }

  /**
   * This daemon lost its lease and was adopted (cluster.ts): the adopter
   * requeued what it was running then. Interrupt the agents of those tasks
   * and forget them, without recording an outcome (they are not ours now).
   * A task this daemon claimed after the adoption (or claimed again since)
   * is still its own, on the attempt it tracks, and keeps running.
   */
  async abandonLost(reason: string): Promise<number> {
    let n = 0
    for (const id of this.running.ids()) {
      const entry = this.running.get(id)
      if (!entry) continue
      const now = await this.store.tasks.get(id)
      if (now?.status === "running" && now.ownerDaemon === this.owner && now.attempts === entry.attempt) continue
      if (this.running.get(id) !== entry) continue
      this.forget(id)
      entry.decision = undefined
      entry.executor.cancel(entry.agentId, id, reason)
      n++
    }
    if (n > 0) void this.dispatch()
    return n
  }

  stop(): void {
    this.stopped = true
    this.ticker?.cancel()
    for (const id of this.running.ids()) this.forget(id)
    this.local?.close()
    this.bus.stop()
  }
}
