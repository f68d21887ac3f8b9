import type { Logger } from "../log"
import type { PromptContext, PromptStage, StageResult, TaskEndHook } from "../orchestrator/stages"
import type { Task } from "../store/task-types"
import type { PatternKind } from "./repo"
import { smoothedRate, type MemoryService } from "./service"

// The loop: before an agent gets a task, the closest patterns (top k, above
// the threshold, ranked by similarity x smoothed success rate) go into its
// prompt in a marked block and are recorded as used; when the task ends,
// each used pattern's success or failure count moves by one, and the task is
// distilled into at most max_items new patterns (near-duplicates merge).
// Off in [memory] enabled = false, per task with metadata.memory = false, and
// per attempt when the learned router's composite action leaves it out
// (routing.memory.inject = false; the decision and its probability are in
// the attempt's rl_experiences row).

export const MEMORY_OPEN = "<cca-memory>"
export const MEMORY_CLOSE = "</cca-memory>"

export function memoryOff(task: Task): boolean {
  return task.metadata?.memory === false
}

/** The learned router decided to leave memory out of this attempt (its composite action, src/rl/memory-gate.ts). */
export function routedWithoutMemory(routing: Readonly<Record<string, unknown>> | undefined): boolean {
  const m = routing?.memory as { inject?: unknown } | undefined
  return m?.inject === false
}

export type Item = { kind: PatternKind; title: string; description: string; content: string }

export function memoryBlock(items: readonly { title: string; kind: string; content: string; successCount: number; failureCount: number }[]): string {
  const body = items.map((p) => `## ${p.title} (${p.kind}; worked ${p.successCount} of ${p.successCount + p.failureCount} uses)\n${p.content}`).join("\n\n")
  return `${MEMORY_OPEN}\nStrategies and pitfalls from earlier similar tasks. Use them where they apply; ignore them where they do not.\n\n${body}\n${MEMORY_CLOSE}`
}

export class MemoryStage implements PromptStage {
  readonly name = "memory"
  constructor(private readonly memory: MemoryService) {}

  async prepare({ task, prompt, routing }: PromptContext): Promise<StageResult> {
    const c = this.memory.config
    if (!c.enabled || c.top_k === 0 || memoryOff(task) || !this.memory.available) return { prompt }
    if (routedWithoutMemory(routing)) return { prompt, note: { patterns: [], skipped: "routing" } }
    const hits = await this.memory.rank(task.description, Math.max(c.top_k * 5, 10), {}, c.min_similarity)
    const chosen = hits
      .map((h) => ({ ...h, weighted: h.score * smoothedRate(h.pattern.successCount, h.pattern.failureCount) }))
      .sort((a, b) => b.weighted - a.weighted)
      .slice(0, c.top_k)
    if (chosen.length === 0) return { prompt, note: { patterns: [], model: this.memory.embedder.model } }
    await this.memory.repo.recordUses(
      task.id,
      chosen.map((h) => ({ patternId: h.pattern.id, similarity: h.similarity, score: h.weighted })),
    )
    const block = memoryBlock(chosen.map((h) => h.pattern))
    return {
      prompt: `${block}\n\n${prompt}`,
      note: { patterns: chosen.map((h) => ({ id: h.pattern.id, similarity: round(h.similarity), score: round(h.weighted) })), model: this.memory.embedder.model },
    }
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000
}

function guessKind(text: string, failed: boolean): PatternKind {
  if (failed) return "error_recovery"
  const t = text.toLowerCase()
  if (/\b(test|tests|testing|spec|coverage)\b/.test(t)) return "testing"
  if (/\b(refactor|rename|extract|restructure|clean ?up)\b/.test(t)) return "refactoring"
  if (/\b(optimi[sz]e|faster|speed|performance|latency|memory use)\b/.test(t)) return "optimization"
  return "solution"
}

function clip(s: string, n: number): string {
  const t = s.replace(/\s+/g, " ").trim()
  return t.length > n ? `${t.slice(0, n - 1)}…` : t
}

const LESSON = /^\s*(?:[-*]\s*)?(strategy|lesson|pitfall|tip|approach)\s*:\s*(.+)$/gim

/**
 * No model call: the description, the result's summary and the error. Lines
 * of the result that start with `Strategy:`, `Lesson:`, `Pitfall:` or `Tip:`
 * become items of their own. Success is the task's status, nothing else.
 */
export function extractiveItems(task: Task, max = 3): Item[] {
  const failed = task.status === "failed"
  const desc = clip(task.description, 200)
  const items: Item[] = []
  const result = task.result ?? ""
  for (const m of result.matchAll(LESSON)) {
    const text = clip(m[2]!, 600)
    const pitfall = /pitfall/i.test(m[1]!)
    items.push({
      kind: pitfall || failed ? "error_recovery" : guessKind(desc, false),
      title: clip(text, 80),
      description: `${failed ? "Failed" : "Worked"} on: ${desc}`,
      content: failed ? `Avoid: ${text}` : text,
    })
  }
  if (failed) {
    const e = task.error
    const why = e ? `${e.code}: ${e.message}${e.hint ? ` (hint: ${e.hint})` : ""}` : "no error recorded"
    items.unshift({
      kind: "error_recovery",
      title: clip(`Pitfall: ${desc}`, 100),
      description: `A task like this failed: ${clip(why, 200)}`,
      content: `A similar task failed with ${clip(why, 600)}.${result ? ` Its last output: ${clip(result, 400)}` : ""} Check for this cause first, and verify the fix before reporting success.`,
    })
  } else if (items.length === 0 && result.trim()) {
    items.push({ kind: guessKind(desc, false), title: clip(`What worked: ${desc}`, 100), description: `Completed: ${desc}`, content: `A similar task was completed like this: ${clip(result, 800)}` })
  }
  return items.slice(0, max)
}

/** The fixed prompt of the `agent` distiller: one short extra turn in the agent's own session. */
export function distillPrompt(task: Task): string {
  return [
    `[cca memory] The task you just worked on has ended; it ${task.status === "completed" ? "was completed" : "failed"}.`,
    "Distil at most 3 reusable items from it: strategies that would help a similar future task, or pitfalls to avoid. Not a transcript, not specific to this one task.",
    'Answer with JSON only, no prose: {"items":[{"kind":"solution|error_recovery|refactoring|optimization|testing|reasoning","title":"...","description":"when it applies, one sentence","content":"the strategy, at most 5 sentences"}]}',
  ].join("\n")
}

/** Items from the agent's answer: the first JSON object or array in it; bad items are dropped. */
export function parseAgentItems(text: string, task: Task, max = 3): Item[] {
  const m = /[[{][\s\S]*[\]}]/.exec(text)
  if (!m) throw new Error("the agent's answer holds no JSON")
  const parsed = JSON.parse(m[0]) as unknown
  const list = Array.isArray(parsed) ? parsed : (parsed as { items?: unknown }).items
  if (!Array.isArray(list)) throw new Error("the agent's JSON has no items list")
  const kinds = ["solution", "error_recovery", "refactoring", "optimization", "testing", "reasoning"]
  const items: Item[] = []
  for (const x of list) {
    const o = x as Record<string, unknown>
    if (typeof o?.content !== "string" || !o.content.trim()) continue
    // success is the task's outcome, not the model's opinion: a failed task's items are pitfalls
    const kind = (task.status === "failed" ? "error_recovery" : kinds.includes(String(o.kind)) && o.kind !== "error_recovery" ? o.kind : "solution") as PatternKind
    items.push({ kind, title: clip(String(o.title ?? o.content), 120), description: clip(String(o.description ?? ""), 300), content: clip(o.content, 2000) })
  }
  return items.slice(0, max)
}

/** Sends one message to a local agent and resolves with its answer (the pool's `send`). */
export type AgentTurn = (agentId: string, message: string) => Promise<{ ok: boolean; text: string }>

export class MemoryEndHook implements TaskEndHook {
  readonly name = "memory"
  constructor(
    private readonly memory: MemoryService,
    private readonly log?: Logger,
    private readonly agentTurn?: AgentTurn,
  ) {}

  /** The items of an ended task, and which distiller made them (agent, or extractive with why). */
  async distill(task: Task): Promise<{ items: Item[]; distiller: string; error?: string }> {
    const c = this.memory.config
    if (c.distiller === "agent") {
      if (!this.agentTurn || !task.agentId) return { items: extractiveItems(task, c.max_items), distiller: "extractive", error: "no local agent to ask (remote or none)" }
      try {
        const r = await this.agentTurn(task.agentId, distillPrompt(task))
        if (!r.ok) throw new Error(`the distilling turn failed: ${r.text.slice(0, 200)}`)
        return { items: parseAgentItems(r.text, task, c.max_items), distiller: "agent" }
      } catch (e) {
        const error = (e as Error).message
        this.memory.noteError("agent distiller", e)
        this.log?.warn(`memory: agent distiller failed for task ${task.id}, used extractive: ${error}`)
        return { items: extractiveItems(task, c.max_items), distiller: "extractive", error }
      }
    }
    return { items: extractiveItems(task, c.max_items), distiller: "extractive" }
  }

  async ended(task: Task): Promise<void> {
    if (!this.memory.available || memoryOff(task)) return
    if (task.status !== "completed" && task.status !== "failed") return
    const moved = await this.memory.track("end hook", () => this.memory.repo.settle(task.id, task.status === "completed"))
    if (moved.length) this.log?.debug?.(`memory: task ${task.id} moved ${moved.length} pattern count(s)`)
    const c = this.memory.config
    if (!c.enabled) return
    const d = await this.distill(task)
    for (const item of d.items) {
      await this.memory.store({ ...item, role: task.role, when: task.description, source_task_ids: [task.id], metadata: { distiller: d.distiller, outcome: task.status, ...(d.error ? { agent_error: d.error } : {}) } })
    }
  }
}
