import type { AcpServer } from "../acp/server"
import type { AgentInfo } from "../acp/registry"
import { isBridge } from "../acp/bridge"
import { systemClock, type Clock, type Timer } from "../acp/clock"
import { ConflictError, NotFoundError } from "../errors"
import type { Logger } from "../log"
import type { StateStore } from "../state/types"
import type { Store } from "../store/store"
import type { NewTask, TaskFilter, TaskPage } from "../store/tasks"
import { FINAL_STATUSES, type Task, type TaskError, type TaskEvent, type Transition } from "../store/task-types"
import { TaskEventBus } from "./events"
import { eligible, RoleRouter, type Router } from "./router"

// The first dispatcher. Pending tasks are claimed from the store (SKIP LOCKED,
// so several daemons never run one task twice) and offered over ACP
// (`task_assign`) to registered, healthy, connected, idle agents of the task's
// role, or of any role when it has none; the Router picks among them. Results
// and progress come back through the ACP hooks (acp-hooks.ts). Every state
// change is one store transition whose event is published for SSE clients.
// Agents take one task at a time.

export type AcpPort = Pick<AcpServer, "assignTask" | "cancelTask" | "releaseTask" | "agents" | "agent">

export type OrchestratorOptions = {
  store: Store
  state: StateStore
  acp: AcpPort
  /** This daemon's id: the owner of the tasks it claims. */
  owner: string
  log: Logger
  /** Default task timeout (tasks.timeout_s); 0 = none. A task's own timeoutMs wins. */
  taskTimeoutMs: number
  /** Default max attempts of new tasks (tasks.max_attempts). */
  maxAttempts: number
  router?: Router
  clock?: Clock
  /** How often pending tasks are looked for without a trigger (backoff expiry, other daemons). */
  tickMs?: number
  /** After an agent refuses a task it is not offered another for this long. */
  refusalCooldownMs?: number
}

export type CreateTask = Pick<NewTask, "description" | "prompt" | "role" | "priority" | "coordinate" | "parentId" | "maxAttempts" | "timeoutMs" | "metadata" | "source">

type Running = { agentId: string; attempt: number; timer: Timer | null; accepted: boolean }

const isFinal = (t: Task) => FINAL_STATUSES.includes(t.status)

export class Orchestrator {
  readonly bus: TaskEventBus
  readonly router: Router
  readonly owner: string
  private readonly store: Store
  private readonly state: StateStore
  private readonly acp: AcpPort
  private readonly log: Logger
  private readonly clock: Clock
  private readonly running = new Map<string, Running>()
  private readonly reserved = new Set<string>()
  private readonly cooldown = new Map<string, number>()
  private ticker: Timer | null = null
  private dispatching = false
  private again = false
  private stopped = false
  private drained: (() => void) | null = null

  constructor(private readonly opts: OrchestratorOptions) {
    this.store = opts.store
    this.state = opts.state
    this.acp = opts.acp
    this.owner = opts.owner
    this.log = opts.log
    this.clock = opts.clock ?? systemClock
    this.router = opts.router ?? new RoleRouter()
    this.bus = new TaskEventBus(opts.state)
  }

  async start(): Promise<void> {
    await this.bus.start()
    this.ticker = this.clock.setInterval(() => void this.dispatch(), this.opts.tickMs ?? 2000)
  }

  /** Tasks this daemon has handed to agents and not seen finish. */
  get inFlight(): number {
    return this.running.size
  }

  // ---- the domain functions HTTP routes, CLI and MCP share ----

  async createTask(input: CreateTask): Promise<Task> {
    const t = await this.store.tasks.create({ ...input, maxAttempts: input.maxAttempts ?? this.opts.maxAttempts })
    await this.publish(t.event)
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

  async cancelTask(id: string, reason = "cancelled by request"): Promise<Task> {
    const t = await this.store.tasks.cancel(id, reason)
    if (!t) {
      const task = await this.getTask(id)
      throw new ConflictError(`task ${id} is already ${task.status}`, { hint: "only pending or running tasks can be cancelled" })
    }
    await this.publish(t.event)
    const entry = this.forget(id)
    const agentId = entry?.agentId ?? t.task.agentId
    if (t.previousStatus === "running" && agentId) this.acp.cancelTask(agentId, id, reason)
    void this.dispatch()
    return t.task
  }

  // ---- dispatch ----

  /** Look for work for idle agents. Calls made while a round runs fold into one more round. */
  async dispatch(): Promise<void> {
    if (this.stopped) return
    if (this.dispatching) {
      this.again = true
      return
    }
    this.dispatching = true
    try {
      do {
        this.again = false
        await this.round()
      } while (this.again && !this.stopped)
    } catch (e) {
      this.log.error("dispatch failed", e)
    } finally {
      this.dispatching = false
    }
  }

  /** Healthy, connected agents with no task and no offer in flight (MCP bridges take no tasks). */
  idleAgents(): AgentInfo[] {
    const now = this.clock.now()
    return this.acp.agents({ health: "healthy", connected: true }).filter((a) => !isBridge(a) && a.taskIds.length === 0 && !this.reserved.has(a.agentId) && (this.cooldown.get(a.agentId) ?? 0) <= now)
  }

  private async round(): Promise<void> {
    const idle = this.idleAgents()
    if (idle.length === 0) return
    const limit = idle.length * 2 + 8
    const tasks = await this.claimable([...new Set(idle.map((a) => a.role))], limit)
    for (const task of tasks) {
      if (this.stopped) return
      const candidates = eligible(task, idle.filter((a) => !this.reserved.has(a.agentId)))
      if (candidates.length === 0) continue
      const agent = this.router.pick(task, candidates)
      if (!agent) continue
      this.reserved.add(agent.agentId)
      const claimed = await this.store.tasks.claim(task.id, { owner: this.owner, agentId: agent.agentId })
      if (!claimed) {
        this.reserved.delete(agent.agentId) // another daemon took it, or it was cancelled meanwhile
        continue
      }
      await this.publish(claimed.event)
      void this.offer(claimed.task, agent.agentId)
    }
    if (tasks.length === limit) this.again = true
  }

  /** Pending tasks past their backoff that an idle agent could take: its role or none; highest priority, then oldest. */
  private claimable(roles: string[], limit: number): Promise<Task[]> {
    return this.store.tasks.listClaimable({ roles, includeUnrouted: true, limit })
  }

  private async offer(task: Task, agentId: string): Promise<void> {
    const entry: Running = { agentId, attempt: task.attempts, timer: null, accepted: false }
    this.track(task, entry)
    try {
      const answer = await this.acp.assignTask(agentId, {
        taskId: task.id,
        prompt: task.prompt ?? task.description,
        role: task.role ?? undefined,
        title: task.description,
        parentTaskId: task.parentId ?? undefined,
        metadata: task.metadata,
      })
      if (this.running.get(task.id) !== entry) {
        this.acp.releaseTask(agentId, task.id) // finished (or was cancelled) before the answer came
        return
      }
      if (answer.accepted) {
        entry.accepted = true
        this.agentState(agentId, "busy", task.id)
        void this.store.agents.markState(agentId, "busy", { currentTaskId: task.id }).catch(() => {})
        await this.publish(await this.store.events.append(task.id, "accepted", { agentId, attempt: task.attempts }))
        return
      }
      // The refusing agent sits out a while, so the task goes to another one (or waits for the tick).
      this.cooldown.set(agentId, this.clock.now() + (this.opts.refusalCooldownMs ?? 5000))
      await this.requeue(task.id, agentId, { code: "agent_refused", message: `agent ${agentId} refused the task${answer.reason ? `: ${answer.reason}` : ""}` })
    } catch (e) {
      this.log.warn(`offering task ${task.id} to agent ${agentId} failed: ${(e as Error).message}`)
      await this.requeue(task.id, agentId, { code: "agent_unreachable", message: `offering the task to agent ${agentId} failed: ${(e as Error).message}` })
    } finally {
      this.reserved.delete(agentId)
      void this.dispatch()
    }
  }

  /** Remember a running task of this daemon and arm its timeout. */
  track(task: Task, entry: Running): void {
    this.forget(task.id)
    const timeoutMs = task.timeoutMs ?? this.opts.taskTimeoutMs
    if (timeoutMs > 0) entry.timer = this.clock.setTimeout(() => void this.timeout(task.id, entry, timeoutMs), timeoutMs)
    this.running.set(task.id, entry)
  }

  /** Stop tracking a task; returns what was tracked. */
  forget(taskId: string): Running | undefined {
    const entry = this.running.get(taskId)
    if (!entry) return undefined
    entry.timer?.cancel()
    this.running.delete(taskId)
    if (this.running.size === 0) this.drained?.()
    return entry
  }

  /** Tell an agent to stop a task it runs that is not its any more. */
  tellAgentToDrop(agentId: string, taskId: string, reason: string): void {
    this.acp.cancelTask(agentId, taskId, reason)
  }

  entry(taskId: string): Running | undefined {
    return this.running.get(taskId)
  }

  private async timeout(taskId: string, entry: Running, timeoutMs: number): Promise<void> {
    if (this.running.get(taskId) !== entry) return
    const t = await this.store.tasks.fail(taskId, { code: "timeout", message: `no result within ${Math.round(timeoutMs / 1000)} s`, hint: "raise tasks.timeout_s or the task's timeoutMs" }, { attempt: entry.attempt })
    this.forget(taskId)
    this.acp.cancelTask(entry.agentId, taskId, "timeout")
    if (t) await this.publish(t.event)
    this.agentState(entry.agentId, "idle", null)
    void this.dispatch()
  }

  /** Put a task of `agentId` back in the queue (fenced by the attempt it had). */
  async requeue(taskId: string, agentId: string, reason: TaskError, delayMs = 0): Promise<Transition | undefined> {
    const entry = this.running.get(taskId)
    let attempt = entry?.agentId === agentId ? entry.attempt : undefined
    if (attempt === undefined) {
      const task = await this.store.tasks.get(taskId)
      if (!task || task.status !== "running" || task.agentId !== agentId) return undefined
      attempt = task.attempts
    }
    const t = await this.store.tasks.requeue(taskId, { reason, attempt, delayMs })
    if (this.running.get(taskId)?.agentId === agentId) this.forget(taskId)
    this.acp.releaseTask(agentId, taskId)
    if (t) await this.publish(t.event)
    return t
  }

  async publish(e: TaskEvent): Promise<void> {
    try {
      await this.bus.publish(e)
    } catch (err) {
      this.log.warn(`publishing task event ${e.id} failed: ${(err as Error).message}`) // SSE clients replay from the store
    }
  }

  /** Mirror an agent's status to the shared state (other daemons, dashboards). Best effort. */
  agentState(agentId: string, status: string, taskId: string | null): void {
    const agent = this.acp.agent(agentId)
    if (!agent) return
    this.state.setAgent({ id: agentId, role: agent.role, status, taskId, daemonId: this.owner }).catch((e: unknown) => this.log.debug(`state: ${(e as Error).message}`))
  }

  /** Wait for a task to end (completed, failed or cancelled); the task, or undefined on timeout or abort. */
  async waitFor(taskId: string, timeoutMs: number, signal?: AbortSignal): Promise<Task | undefined> {
    let off = () => {}
    let timer: Timer | null = null
    const ended = new Promise<void>((resolve) => {
      off = this.bus.on(taskId, (e) => {
        if (e.type === "completed" || e.type === "failed" || e.type === "cancelled") resolve()
      })
      timer = this.clock.setTimeout(resolve, timeoutMs)
      signal?.addEventListener("abort", () => resolve(), { once: true })
    })
    try {
      const now = await this.store.tasks.get(taskId)
      if (now && isFinal(now)) return now
      await ended
      const after = await this.store.tasks.get(taskId)
      return after && isFinal(after) ? after : undefined
    } finally {
      off()
      ;(timer as Timer | null)?.cancel()
    }
  }

  // ---- lifecycle ----

  /**
   * Graceful stop: no new offers; running tasks get `graceMs` to report, then
   * the ones left are requeued for whichever daemon runs next (their agents
   * keep working and claim them back when they reconnect).
   */
  async drain(graceMs: number): Promise<{ requeued: number }> {
    this.stopped = true
    this.ticker?.cancel()
    if (this.running.size > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.clock.setTimeout(resolve, graceMs)
        this.drained = () => {
          timer.cancel()
          resolve()
        }
      })
    }
    this.drained = null
    for (const id of [...this.running.keys()]) this.forget(id)
    const requeued = await this.store.tasks.requeueRunning({ owner: this.owner }, { reason: { code: "daemon_shutdown", message: `daemon ${this.owner} shut down while the task was running` } })
    for (const t of requeued) await this.publish(t.event)
    return { requeued: requeued.length }
  }

  stop(): void {
    this.stopped = true
    this.ticker?.cancel()
    for (const id of [...this.running.keys()]) this.forget(id)
    this.bus.stop()
  }
}
