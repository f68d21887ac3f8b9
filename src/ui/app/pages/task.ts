import { useEffect, useState } from "preact/hooks"
import { api, errorText } from "../api"
import { html } from "../html"
import { onReset, onTaskEvent } from "../live"
import { Badge, fmt, Notice, Section, shortId, Time, usd } from "../parts"
import { BASE } from "../router"
import type { TaskEvent } from "../state"
import { cancelTask, useThrottled, type Task } from "./tasks"

// One task: its events live (its own SSE stream, replayed from the start),
// result, tokens, cost, attempts, and for a coordinated task the tree of
// its subtasks with their states (reloaded when one of them changes).

const EVENT_LIMIT = 500

function eventText(e: TaskEvent): string {
  const d = e.data
  const parts: string[] = []
  for (const k of ["role", "agentId", "attempt", "message", "reason", "code"]) if (d[k] != null && d[k] !== "") parts.push(`${k} ${String(d[k])}`)
  if (typeof d.progress === "number") parts.push(`${Math.round(d.progress * 100)}%`)
  return parts.join(", ")
}

function Tree({ tasks, rootId, current }: { tasks: Task[]; rootId: string; current: string }) {
  const children = new Map<string, Task[]>()
  for (const t of tasks) if (t.parentId) children.set(t.parentId, [...(children.get(t.parentId) ?? []), t])
  const node = (t: Task): unknown =>
    html`<li key=${t.id} data-tree-task=${t.id} data-status=${t.status}>
      <${Badge} status=${t.status} /> ${t.id === current ? html`<strong>${t.description.slice(0, 80)}</strong>` : html`<a href=${`${BASE}/tasks/${t.id}`}>${t.description.slice(0, 80)}</a>`}
      <span class="muted"> ${t.role ?? "unrouted"}</span>
      ${children.get(t.id)?.length ? html`<ul>${children.get(t.id)!.map(node)}</ul>` : null}
    </li>`
  const root = tasks.find((t) => t.id === rootId)
  return root ? html`<ul class="tree" data-testid="task-tree">${node(root)}</ul>` : null
}

export function TaskPage({ id }: { id: string }) {
  const [task, setTask] = useState<Task | undefined>()
  const [events, setEvents] = useState<TaskEvent[]>([])
  const [tree, setTree] = useState<Task[]>([])
  const [error, setError] = useState("")
  const load = async () => {
    try {
      const t = await api<Task>("GET", `/api/v1/tasks/${id}`)
      setTask(t)
      const family = await api<{ items: Task[] }>("GET", `/api/v1/tasks?rootId=${t.rootId}&order=oldest&limit=500`)
      setTree(family.items.length > 1 ? family.items : [])
    } catch (e) {
      setError(errorText(e))
    }
  }
  const reload = useThrottled(load, 250)
  useEffect(() => {
    setTask(undefined)
    setEvents([])
    void load()
    // This task's own stream: every event from the first, then live; the browser resumes it after a drop.
    const es = new EventSource(`/api/v1/tasks/${id}/events`)
    const seen = new Set<number>()
    const onEvent = (m: MessageEvent) => {
      try {
        const e = JSON.parse(m.data as string) as TaskEvent
        if (seen.has(e.id)) return
        seen.add(e.id)
        setEvents((list) => [...list, e].slice(-EVENT_LIMIT))
        reload()
      } catch {}
    }
    for (const type of ["created", "claimed", "accepted", "progress", "completed", "failed", "requeued", "cancelled", "child"]) es.addEventListener(type, onEvent as EventListener)
    es.onmessage = onEvent
    return () => es.close()
  }, [id])
  useEffect(() => {
    const ids = new Set(tree.map((t) => t.id))
    const off = onTaskEvent((e) => {
      if (ids.has(e.taskId) || (e.data.parentId && ids.has(String(e.data.parentId))) || e.data.parentId === id) reload()
    })
    const off2 = onReset(reload)
    return () => (off(), off2())
  }, [tree, id])
  if (error && !task) return html`<${Notice} kind="error">${error}<//>`
  if (!task) return html`<p class="muted" aria-busy="true">Loading the task…</p>`
  const u = task.usage
  return html`<div class="stack" data-testid="task-page" data-status=${task.status}>
    <${Section} title="Task">
      <p class="lead">${task.description}</p>
      <dl class="kv">
        <dt>Status</dt><dd><${Badge} status=${task.status} /> ${task.progressMessage ? html`<span class="muted">${task.progressMessage}</span>` : null}</dd>
        <dt>Id</dt><dd class="mono">${task.id}</dd>
        <dt>Role</dt><dd>${task.role ?? "not routed yet"}${task.coordinate ? " (coordinated)" : ""}</dd>
        <dt>Agent</dt><dd class="mono">${task.agentId ? html`<a href=${`${BASE}/agents/${task.agentId}`}>${task.agentId}</a>` : "–"}</dd>
        <dt>Attempts</dt><dd>${task.attempts} of ${task.maxAttempts}</dd>
        <dt>Tokens</dt><dd>${fmt(u.inputTokens)} in, ${fmt(u.outputTokens)} out, ${fmt(u.cacheReadTokens)} cache read, ${fmt(u.cacheCreationTokens)} cache write</dd>
        <dt>Cost</dt><dd>${usd(task.costUsd)}</dd>
        <dt>Created</dt><dd><${Time} iso=${task.createdAt} />${task.finishedAt ? html`, finished <${Time} iso=${task.finishedAt} />` : null}${task.durationMs != null ? ` in ${(task.durationMs / 1000).toFixed(1)} s` : ""}</dd>
        ${task.parentId ? html`<dt>Parent</dt><dd><a href=${`${BASE}/tasks/${task.parentId}`}>${shortId(task.parentId)}</a></dd>` : null}
      </dl>
      ${task.status === "pending" || task.status === "running" ? html`<button onClick=${() => cancelTask(id).then(reload, (e: unknown) => setError(errorText(e)))}>Cancel task</button>` : null}
      ${error ? html`<${Notice} kind="error">${error}<//>` : null}
    <//>
    ${task.result != null ? html`<${Section} title="Result"><pre class="output" data-testid="task-result">${task.result}</pre><//>` : null}
    ${task.error ? html`<${Section} title="Error"><${Notice} kind="error"><strong>${task.error.code}</strong>: ${task.error.message}${task.error.hint ? html`<br />Try: ${task.error.hint}` : null}<//><//>` : null}
    ${tree.length > 1 ? html`<${Section} title="Subtasks"><${Tree} tasks=${tree} rootId=${task.rootId} current=${task.id} /><//>` : null}
    <${Section} title="Events">
      <ol class="events" data-testid="task-events">
        ${events.map((e) => html`<li key=${e.id} data-event=${e.type}><${Badge} status=${e.type} /> <${Time} iso=${e.createdAt} /> <span class="muted">${eventText(e)}</span></li>`)}
      </ol>
    <//>
  </div>`
}
