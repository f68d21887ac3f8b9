import type { Logger } from "../log"
import type { Task } from "../store/task-types"
import type { Worker } from "./executor"

// Extension points of a task's run, for the capabilities that shape what an
// agent is sent and learn from how it went (memory, token budgets, ...):
//
// - a PromptStage runs after a task is claimed for an agent and before the
//   agent gets it, once per attempt. Stages run in order, each on the prompt
//   the previous one returned. What each did (its `note`) is written with
//   the task's `accepted` event and into `metadata.prompt.<stage name>`, so
//   it can be traced later. A stage that throws PromptRejected fails the task
//   with the error it carries (no retry: another agent would get the same
//   prompt); any other exception is logged, noted as `{ error }` and the
//   prompt goes on unchanged: a helper that is down must not stop the work,
//   and it says so instead of pretending it ran.
// - a TaskEndHook hears every task that reached a final status (completed,
//   failed, cancelled), with the task as stored. Hooks run in the background;
//   the orchestrator waits for them on drain.

export type PromptContext = {
  /** The claimed task (its `attempts` is this attempt). */
  task: Task
  agent: Worker
  /** The prompt so far: the task's own (prompt, else description), as shaped by earlier stages. */
  prompt: string
  /** The routing decision of this attempt as recorded (e.g. `memory: { inject }`, the learned router's composite action), when there is one. */
  routing?: Readonly<Record<string, unknown>>
}

export type StageResult = { prompt: string; note?: Record<string, unknown> }

export interface PromptStage {
  readonly name: string
  prepare(ctx: PromptContext): Promise<StageResult>
}

export interface TaskEndHook {
  readonly name: string
  ended(task: Task): Promise<void>
}

/** Thrown by a stage when the task cannot be sent at all (e.g. it cannot fit its token budget). */
export class PromptRejected extends Error {
  override readonly name = "PromptRejected"
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message)
  }
}

export type PreparedPrompt = { prompt: string; notes: Record<string, unknown> }

/** Run the stages in order over a task's prompt. Throws PromptRejected only. */
export async function preparePrompt(stages: readonly PromptStage[], task: Task, agent: Worker, log: Logger, routing?: Readonly<Record<string, unknown>>): Promise<PreparedPrompt> {
  let prompt = task.prompt ?? task.description
  const notes: Record<string, unknown> = {}
  for (const stage of stages) {
    try {
      const r = await stage.prepare({ task, agent, prompt, routing })
      prompt = r.prompt
      if (r.note !== undefined) notes[stage.name] = r.note
    } catch (e) {
      if (e instanceof PromptRejected) throw e
      const message = e instanceof Error ? e.message : String(e)
      log.warn(`prompt stage ${stage.name} failed for task ${task.id}; the prompt goes on without it: ${message}`)
      notes[stage.name] = { error: message }
    }
  }
  return { prompt, notes }
}

/** Runs end hooks in the background and knows which are still running (for drain). */
export class EndHooks {
  private readonly pending = new Set<Promise<void>>()

  constructor(
    private readonly hooks: readonly TaskEndHook[],
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.hooks.length
  }

  fire(task: Task): void {
    for (const h of this.hooks) {
      const p = h.ended(task).catch((e: unknown) => this.log.warn(`task end hook ${h.name} failed for task ${task.id}: ${(e as Error).message}`))
      this.pending.add(p)
      void p.finally(() => this.pending.delete(p))
    }
  }

  /** Wait for the hooks running now. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending])
  }
}
