import { useEffect, useState } from "preact/hooks"
import { api, errorText } from "../api"
import { html } from "../html"
import { onAgentEvent, onReset } from "../live"
import { Badge, Notice, Section, Time } from "../parts"
import { BASE, navigate } from "../router"
import { useThrottled } from "./tasks"

// Agents: this daemon's pool (spawn with a role and driver, stop) and the
// remote ones on ACP. Reloaded when the live stream reports a pool event.

export type Agent = {
  id: string
  role: string
  kind: "local" | "remote"
  driver: string
  status: string
  pid?: number | null
  taskIds: string[]
  restarts?: number
  cwd?: string
  spawnedAt?: string
  readyAt?: string | null
  lastOutput?: string
  host?: string | null
  lastHeartbeatAt?: string | null
}

export const stopAgent = (id: string) => api("POST", `/api/v1/agents/${encodeURIComponent(id)}/stop`)

function Spawn() {
  const [role, setRole] = useState("backend")
  const [driver, setDriver] = useState("stream")
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState("")
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError("")
    try {
      const a = await api<Agent>("POST", "/api/v1/agents", { role: role.trim(), driver })
      navigate(`/agents/${a.id}`)
    } catch (err) {
      setError(errorText(err))
    } finally {
      setBusy(false)
    }
  }
  return html`<form class="form" onSubmit=${submit} aria-label="Spawn an agent">
    <div class="row">
      <span><label for="spawn-role">Role</label>
      <input id="spawn-role" list="agent-roles" required pattern="[a-z][a-z0-9_-]{0,39}" value=${role} onInput=${(e: Event) => setRole((e.target as HTMLInputElement).value)} /></span>
      <span><label for="spawn-driver">Driver</label>
      <select id="spawn-driver" value=${driver} onChange=${(e: Event) => setDriver((e.target as HTMLSelectElement).value)}>
        <option value="stream">stream (transcript)</option><option value="pty">pty (terminal)</option>
      </select></span>
    </div>
    <datalist id="agent-roles"><option value="coordinator" /><option value="frontend" /><option value="backend" /><option value="security" /><option value="qa" /></datalist>
    ${error ? html`<${Notice} kind="error">${error}<//>` : null}
    <button type="submit" disabled=${busy}>${busy ? "Starting… (until the agent is ready)" : "Spawn agent"}</button>
  </form>`
}

export function AgentsPage() {
  const [items, setItems] = useState<Agent[] | undefined>()
  const [error, setError] = useState("")
  const load = async () => {
    try {
      setItems((await api<{ items: Agent[] }>("GET", "/api/v1/agents")).items)
    } catch (e) {
      setError(errorText(e))
    }
  }
  const reload = useThrottled(load)
  useEffect(() => {
    void load()
    const a = onAgentEvent(reload)
    const b = onReset(reload)
    return () => (a(), b())
  }, [])
  return html`<div class="stack">
    <${Section} title="Spawn an agent"><${Spawn} /><//>
    <${Section} title="Agents">
      ${error ? html`<${Notice} kind="error">${error}<//>` : null}
      ${!items
        ? html`<p class="muted" aria-busy="true">Loading…</p>`
        : items.length === 0
          ? html`<p class="muted">No agents.</p>`
          : html`<div class="scroll"><table data-testid="agent-list">
              <caption class="sr-only">Agents</caption>
              <thead><tr><th scope="col">Agent</th><th scope="col">Role</th><th scope="col">Driver</th><th scope="col">Status</th><th scope="col">Task</th><th scope="col">Since</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>${items.map(
                (a) => html`<tr key=${a.id} data-agent=${a.id}>
                  <td><a href=${`${BASE}/agents/${a.id}`} class="mono">${a.id}</a>${a.kind === "remote" ? html`<div class="muted">remote ${a.host ?? ""}</div>` : null}</td>
                  <td>${a.role}</td><td>${a.driver}</td><td><${Badge} status=${a.status} /></td>
                  <td>${a.taskIds[0] ? html`<a href=${`${BASE}/tasks/${a.taskIds[0]}`}>task</a>` : "–"}</td>
                  <td><${Time} iso=${a.readyAt ?? a.spawnedAt ?? a.lastHeartbeatAt} /></td>
                  <td>${a.kind === "local" && a.status !== "stopped" ? html`<button class="small" onClick=${() => stopAgent(a.id).then(reload, (e: unknown) => setError(errorText(e)))} aria-label=${`Stop agent ${a.id}`}>Stop</button>` : null}</td>
                </tr>`,
              )}</tbody></table></div>`}
    <//>
  </div>`
}
