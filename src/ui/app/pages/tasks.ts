import { useEffect, useRef, useState } from "preact/hooks"
import { api, errorText } from "../api"
import { html } from "../html"
import { onReset, onTaskEvent } from "../live"
import { Badge, fmt, Notice, Section, shortId, Time, usd } from "../parts"
import { BASE, navigate } from "../router"

// Tasks: create, filter, cancel. The list reloads (at most every 300 ms)
// when a task event arrives on the live stream, instead of polling.

export type Task = {
  id: string
  parentId: string | null
  rootId: string
  depth: number
  role: string | null
  description: string
  status: string
  result: string | null
  error: { code: string; message: string; hint?: string } | null
  usage: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheCreationTokens: number }
  costUsd: number
  durationMs: number | null
  agentId: string | null
  attempts: number
  maxAttempts: number
  coordinate: boolean
  progress: number | null
  progressMessage: string | null
  metadata: Record<string, unknown>
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
}

const STATUSES = ["pending", "running", "completed", "failed", "cancelled"]

/** Calls `fn` at most every `ms` while events keep coming (a trailing call included). */
export function useThrottled(fn: () => void, ms = 300): () => void {
  const timer = useRef<ReturnType<typeof setTimeout>>()
  const saved = useRef(fn)
  saved.current = fn
  useEffect(() => () => clearTimeout(timer.current), [])
  return () => {
    if (timer.current) return
    timer.current = setTimeout(() => {
      timer.current = undefined
      saved.current()
    }, ms)
  }
}

export const cancelTask = (id: string) => api("POST", `/api/v1/tasks/${id}/cancel`, { reason: "cancelled from the dashboard" })

function CreateTask({ onCreated }: { onCreated: (id: string) => void }) {
  const [description, setDescription] = useState("")
  const [role, setRole] = useState("")
  const [priority, setPriority] = useState("0")
  const [coordinate, setCoordinate] = useState(false)
  const [error, setError] = useState("")
  const submit = async (e: Event) => {
    e.preventDefault()
    setError("")
    try {
      const body: Record<string, unknown> = { description, priority: Number(priority) || 0 }
      if (role.trim()) body.role = role.trim()
      if (coordinate) body.coordinate = true
      const r = await api("POST", "/api/v1/tasks", body)
      setDescription("")
      onCreated(r.id)
    } catch (err) {
      setError(errorText(err))
    }
  }
  return html`<form class="form" onSubmit=${submit} aria-label="Create a task">
    <label for="task-description">Description</label>
    <textarea id="task-description" required rows="3" value=${description} onInput=${(e: Event) => setDescription((e.target as HTMLTextAreaElement).value)}></textarea>
    <div class="row">
      <span><label for="task-role">Role (optional)</label>
      <input id="task-role" list="roles" value=${role} placeholder="routed by content" onInput=${(e: Event) => setRole((e.target as HTMLInputElement).value)} /></span>
      <span><label for="task-priority">Priority</label>
      <input id="task-priority" type="number" min="-1000" max="1000" value=${priority} onInput=${(e: Event) => setPriority((e.target as HTMLInputElement).value)} /></span>
      <span class="check"><input id="task-coordinate" type="checkbox" checked=${coordinate} onChange=${(e: Event) => setCoordinate((e.target as HTMLInputElement).checked)} />
      <label for="task-coordinate">Coordinate (split into subtasks)</label></span>
    </div>
    <datalist id="roles"><option value="coordinator" /><option value="frontend" /><option value="backend" /><option value="security" /><option value="qa" /></datalist>
    ${error ? html`<${Notice} kind="error">${error}<//>` : null}
    <button type="submit">Create task</button>
  </form>`
}

export function TasksPage() {
  const [status, setStatus] = useState("")
  const [role, setRole] = useState("")
  const [items, setItems] = useState<Task[] | undefined>()
  const [error, setError] = useState("")
  const load = async () => {
    const q = new URLSearchParams({ limit: "100" })
    if (status) q.set("status", status)
    if (role.trim()) q.set("role", role.trim())
    try {
      setItems((await api<{ items: Task[] }>("GET", `/api/v1/tasks?${q}`)).items)
      setError("")
    } catch (e) {
      setError(errorText(e))
    }
  }
  const reload = useThrottled(load)
  useEffect(() => void load(), [status, role])
  useEffect(() => {
    const a = onTaskEvent(reload)
    const b = onReset(reload)
    return () => (a(), b())
  }, [status, role])
  const cancel = async (id: string) => {
    try {
      await cancelTask(id)
      reload()
    } catch (e) {
      setError(errorText(e))
    }
  }
  return html`<div class="stack">
    <${Section} title="New task"><${CreateTask} onCreated=${(id: string) => navigate(`/tasks/${id}`)} /><//>
    <${Section} title="Tasks">
      <div class="row filters" role="search" aria-label="Filter tasks">
        <span><label for="filter-status">Status</label>
        <select id="filter-status" value=${status} onChange=${(e: Event) => setStatus((e.target as HTMLSelectElement).value)}>
          <option value="">any</option>${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select></span>
        <span><label for="filter-role">Role</label>
        <input id="filter-role" list="roles" value=${role} onInput=${(e: Event) => setRole((e.target as HTMLInputElement).value)} /></span>
      </div>
      ${error ? html`<${Notice} kind="error">${error}<//>` : null}
      ${!items
        ? html`<p class="muted" aria-busy="true">Loading…</p>`
        : items.length === 0
          ? html`<p class="muted">No tasks${status || role ? " match these filters" : " yet"}.</p>`
          : html`<div class="scroll"><table data-testid="task-list">
              <caption class="sr-only">Tasks, newest first</caption>
              <thead><tr><th scope="col">Task</th><th scope="col">Status</th><th scope="col">Role</th><th scope="col">Agent</th><th scope="col">Tokens</th><th scope="col">Cost</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>${items.map(
                (t) => html`<tr key=${t.id} data-task=${t.id}>
                  <td><a href=${`${BASE}/tasks/${t.id}`}>${t.description.slice(0, 80)}</a><div class="muted mono">${shortId(t.id)}${t.parentId ? " · subtask" : ""}</div></td>
                  <td><${Badge} status=${t.status} /></td><td>${t.role ?? "–"}</td><td class="mono">${t.agentId ?? "–"}</td>
                  <td>${fmt(t.usage.inputTokens + t.usage.outputTokens)}</td><td>${usd(t.costUsd)}</td><td><${Time} iso=${t.createdAt} /></td>
                  <td>${t.status === "pending" || t.status === "running" ? html`<button class="small" onClick=${() => cancel(t.id)} aria-label=${`Cancel task ${t.description.slice(0, 40)}`}>Cancel</button>` : null}</td>
                </tr>`,
              )}</tbody></table></div>`}
    <//>
  </div>`
}
