import { isTransient } from "../store/sql"
import { toTask, type Task } from "../store/task-types"
import { Backlog } from "./backlog"
import { ACTION_ROLES, type EncodedState } from "./features"
import type { Worker } from "./executor"
import type { Orchestrator } from "./orchestrator"
import type { Running } from "./running"
import { routingOf } from "./records"
import type { Route } from "./router"
import { preparePrompt, PromptRejected } from "./stages"

// One dispatch round: find work for idle agents (and agents to start). The
// pending tasks (those an idle agent could take first) are read in claim
// order (priority, then age), or taken from the backlog when the daemon
// knows the queue exactly (backlog.ts: then a round reads nothing); for each
// the router picks an idle agent, asks for a new agent of the task's role, or
// leaves it waiting. A chosen task is claimed (the store's atomic SKIP LOCKED
// update, so two daemons never take one task), offered to the agent through
// its executor, and its routing decision kept for the record.
//
// Roles: an explicit role (or the coordinator) is binding. A role found from
// the content is a preference: when no agent of that role is live and none can
// be started, any idle agent may take the task rather than it waiting forever.

export type DispatcherOptions = { defaultRole: string; refusalCooldownMs: number; spawnRetryMs: number }

const SOFT_REASONS = new Set(["content", "multi-role"])

export class Dispatcher {
  private readonly reserved = new Set<string>()
  private readonly cooldown = new Map<string, number>()
  private readonly spawning = new Map<string, number>()
  private readonly spawnBlockedUntil = new Map<string, number>()
  /** Agents started for pending work that have not had a task yet. */
  private readonly fresh = new Set<string>()
  private running = false
  private again = false
  private storeDown = false
  private readonly backlog = new Backlog()

  constructor(
    private readonly o: Orchestrator,
    private readonly opts: DispatcherOptions,
  ) {}

  /** New work: a task created here, or (none given) anything that may be pending now. */
  noteWork(task?: Task): void {
    this.backlog.note(task)
  }

  /** A task that is not pending any more. */
  dropWork(taskId: string): void {
    this.backlog.drop(taskId)
  }

  /** Look for work. Calls made while a round runs fold into one more round. */
  async dispatch(): Promise<void> {
    if (this.running) {
      this.again = true
      return
    }
    this.running = true
    try {
      do {
        this.again = false
        await this.round()
      } while (this.again && !this.o.isStopped)
      if (this.storeDown) this.o.log.info("dispatching again: the database answers")
      this.storeDown = false
    } catch (e) {
      // The database restarting: say so once, not with a stack every tick.
      if (!isTransient(e)) this.o.log.error("dispatch failed", e)
      else if (!this.storeDown) this.o.log.warn(`dispatch paused: the database does not answer (${(e as Error).message}); retrying every tick`)
      this.storeDown ||= isTransient(e)
    } finally {
      this.running = false
    }
  }

  private canSpawn(role: string): boolean {
    return (this.o.local?.canSpawn(role) ?? false) && (this.spawnBlockedUntil.get(role) ?? 0) <= this.o.clock.now()
  }

  private async round(): Promise<void> {
    const now = this.o.clock.now()
    const workers = this.o.workers()
    for (const id of this.fresh) if (!workers.some((w) => w.id === id)) this.fresh.delete(id)
    const busy = this.o.busyAgents()
    const isIdle = (w: Worker) => w.live && w.idle && !busy.has(w.id) && !this.reserved.has(w.id) && (this.cooldown.get(w.id) ?? 0) <= now
    let idle = workers.filter(isIdle)
    const room = this.o.local?.canSpawn() ?? false
    const idleRoles = new Set(idle.map((w) => w.role))
    if ((idle.length === 0 && !room) || this.backlog.isClear(room, idleRoles)) return
    const mark = this.backlog.mark()
    const live = new Set(workers.filter((w) => w.live).map((w) => w.role))
    const limit = idle.length * 2 + 32
    const known = this.backlog.known()
    const tasks = known ?? (await this.claimable(room, [...idleRoles], live, limit))
    const whole = known !== null || tasks.length < limit
    const owed = new Map(this.spawning)
    const spawnable = new Map<string, boolean>()
    const canSpawnRole = (role: string) => {
      let ok = spawnable.get(role)
      if (ok === undefined) spawnable.set(role, (ok = this.canSpawn(role)))
      return ok
    }
    const awaitStarting = (role: string) => {
      const n = owed.get(role) ?? 0
      if (n > 0) owed.set(role, n - 1)
      return n > 0
    }
    const chooser = this.o.router.choosesRoles === true
    const base = this.o.records.poolView(workers, new Set([...busy, ...this.reserved]), room, tasks.length, chooser ? canSpawnRole : undefined)
    const left: Task[] = []
    let assigned = 0
    for (const task of tasks) {
      if (this.o.isStopped) return
      idle = idle.filter((w) => !this.reserved.has(w.id))
      const spawnRole = task.role ?? this.opts.defaultRole
      const canSpawn = this.canSpawn(spawnRole)
      const starting = (this.spawning.get(task.role ?? "") ?? 0) > 0
      const reason = routingOf(task).reason
      const soft = task.role === null || SOFT_REASONS.has(reason)
      const binding = task.role !== null && (!SOFT_REASONS.has(reason) || live.has(task.role) || canSpawn || starting)
      const candidates = binding ? idle.filter((w) => w.role === task.role) : idle
      // A router that chooses roles decides for soft tasks itself (and promises itself starting agents through awaitStarting).
      if (!(chooser && soft) && candidates.length === 0 && awaitStarting(spawnRole)) {
        left.push(task) // an agent of the role is starting; this task waits for it
        continue
      }
      const state = this.o.records.state(task, { ...base, canSpawn })
      const ctx = { task, candidates, canSpawn, spawnRole, tried: this.o.tried.get(task.id) ?? new Set<string>(), state, soft, idle, spawnable: canSpawnRole, awaitStarting }
      const route = this.o.router.route(ctx)
      if (route.kind === "assign") {
        if (await this.assign(task, route, state)) assigned++ // (a failed claim: the task is not pending any more)
        continue
      }
      if (route.kind === "spawn") this.spawn(route.role)
      left.push(task)
    }
    this.backlog.settled(mark, whole, idleRoles, tasks, left)
    if (!known && tasks.length === limit && assigned > 0) this.again = true
  }

  /**
   * Pending tasks past their backoff, highest priority first, then oldest.
   * While the pool can start agents every task is a candidate. Otherwise the
   * ones an idle agent could take come first (its role's, unrouted ones, and
   * soft-routed ones whose role has no live agent) and the rest after them,
   * so that a read returning fewer than `limit` rows is the whole queue.
   */
  private async claimable(room: boolean, roles: string[], live: Set<string>, limit: number): Promise<Task[]> {
    if (room) return this.o.store.tasks.listClaimable({ limit })
    const orphans = ACTION_ROLES.filter((r) => !live.has(r))
    const rows = await this.o.store.sql.query(
      `SELECT * FROM tasks WHERE status = 'pending' AND available_at <= now()
       ORDER BY (role IS NULL OR role = ANY($1::text[]) OR (role = ANY($2::text[]) AND metadata->'routing'->>'reason' = ANY($3::text[]))) DESC,
         priority DESC, id LIMIT $4`,
      [roles, orphans, [...SOFT_REASONS], limit],
    )
    return rows.map(toTask)
  }

  private spawn(role: string): void {
    this.spawning.set(role, (this.spawning.get(role) ?? 0) + 1)
    const done = () => this.spawning.set(role, Math.max(0, (this.spawning.get(role) ?? 1) - 1))
    this.o.local!.spawn(role).then(
      (w) => {
        done()
        this.fresh.add(w.id)
        this.o.log.info(`spawned agent ${w.id} (${role}) for pending work`)
        void this.dispatch()
      },
      (e: unknown) => {
        done()
        this.spawnBlockedUntil.set(role, this.o.clock.now() + this.opts.spawnRetryMs)
        this.backlog.note() // the role's content-routed tasks may go to other agents now
        this.o.log.warn(`spawning an agent of role ${role} failed: ${(e as Error).message}`)
        void this.dispatch() // its tasks may fall back to other agents now
      },
    )
  }

  private async assign(task: Task, route: Extract<Route, { kind: "assign" }>, state: EncodedState): Promise<boolean> {
    const agent = route.agent
    const executor = this.o.executors.find((e) => e.kind === agent.executor)!
    this.reserved.add(agent.id)
    const claimed = await this.o.store.tasks.claim(task.id, { owner: this.o.owner, agentId: agent.id })
    if (!claimed) {
      this.reserved.delete(agent.id) // another daemon took it, or it was cancelled meanwhile
      return false
    }
    const decision = this.o.records.decision(claimed.task, state, agent, this.o.router.name, { logProb: route.logProb, value: route.value, spawned: this.fresh.delete(agent.id), info: route.info })
    const entry = this.o.track(claimed.task, agent.id, executor, decision)
    void this.offer(claimed.task, entry, agent) // with no prompt stages, a local agent gets its prompt before anything else is awaited
    await this.o.publish(claimed.event, claimed.task)
    return true
  }

  private async offer(task: Task, entry: Running, agent: Worker): Promise<void> {
    const { agentId, executor } = entry
    try {
      let sent = task
      let notes: Record<string, unknown> = {}
      if (this.o.stages.length > 0) {
        const prepared = await preparePrompt(this.o.stages, task, agent, this.o.log, entry.decision?.metadata)
        if (this.o.entry(task.id) !== entry) return // cancelled or timed out meanwhile
        sent = { ...task, prompt: prepared.prompt }
        notes = prepared.notes
      }
      const answer = await executor.assign(agentId, sent, entry.attempt)
      if (this.o.entry(task.id) !== entry) {
        executor.release(agentId, task.id) // finished (or was cancelled) before the answer came
        return
      }
      if (answer.accepted) {
        entry.accepted = true
        if (executor.kind === "remote") {
          this.o.agentState(agentId, "busy", task.id)
          void this.o.store.agents.markState(agentId, "busy", { currentTaskId: task.id }).catch(() => {})
        }
        const t = await this.o.store.tasks.accept(task.id, { attempt: entry.attempt, data: { agentId, attempt: task.attempts, executor: executor.kind, ...(Object.keys(notes).length > 0 ? { prompt: notes } : {}) }, notes })
        if (t) {
          entry.task = t.task
          await this.o.publish(t.event, t.task)
        }
        return
      }
      // The refusing agent sits out a while, so the task goes to another one (or waits for the tick).
      this.cooldown.set(agentId, this.o.clock.now() + this.opts.refusalCooldownMs)
      await this.o.requeue(task.id, agentId, { code: "agent_refused", message: `agent ${agentId} refused the task${answer.reason ? `: ${answer.reason}` : ""}` })
    } catch (e) {
      if (e instanceof PromptRejected) return void (await this.o.rejected(entry, e))
      this.o.log.warn(`offering task ${task.id} to agent ${agentId} failed: ${(e as Error).message}`)
      await this.o.requeue(task.id, agentId, { code: "agent_unreachable", message: `offering the task to agent ${agentId} failed: ${(e as Error).message}` })
    } finally {
      entry.markReady()
      this.reserved.delete(agentId)
      void this.dispatch()
    }
  }
}
