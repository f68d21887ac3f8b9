import { useEffect, useState } from "preact/hooks"
import { api, errorText } from "../api"
import { html } from "../html"
import { onAgentEvent } from "../live"
import { Badge, Notice, Section, Time } from "../parts"
import { BASE } from "../router"
import { TerminalView } from "../terminal"
import { stopAgent, type Agent } from "./agents"
import { useThrottled } from "./tasks"

// One agent: status, a direct message, its log live (for a stream agent the
// transcript as it happens), and for a pty agent its terminal.

type LogEntry = { seq: number; at: string; kind: string; text: string; taskId?: string | null }

const LOG_LIMIT = 500

function Log({ id }: { id: string }) {
  const [entries, setEntries] = useState<LogEntry[]>([])
  const [ended, setEnded] = useState(false)
  useEffect(() => {
    setEntries([])
    const es = new EventSource(`/api/v1/agents/${encodeURIComponent(id)}/logs/events`)
    es.addEventListener("log", (m) => {
      try {
        const e = JSON.parse((m as MessageEvent).data as string) as LogEntry
        setEntries((list) => (list.length && list[list.length - 1]!.seq >= e.seq ? list : [...list, e].slice(-LOG_LIMIT)))
      } catch {}
    })
    es.addEventListener("stopped", () => {
      setEnded(true)
      es.close()
    })
    return () => es.close()
  }, [id])
  return html`<div>
    <ol class="log" data-testid="agent-log" aria-label="Agent log, oldest first">
      ${entries.map((e) => html`<li key=${e.seq} class=${`log-${e.kind}`}><span class="muted">${new Date(e.at).toLocaleTimeString()}</span> <span class="kind">${e.kind}</span> <span class="text">${e.text}</span></li>`)}
    </ol>
    ${ended ? html`<p class="muted">The agent stopped.</p>` : null}
  </div>`
}

function Send({ id }: { id: string }) {
  const [message, setMessage] = useState("")
  const [note, setNote] = useState("")
  const [error, setError] = useState("")
  const submit = async (e: Event) => {
    e.preventDefault()
    setError("")
    try {
      await api("POST", `/api/v1/agents/${encodeURIComponent(id)}/send`, { message, wait: false })
      setMessage("")
      setNote("Sent. The answer appears in the log.")
    } catch (err) {
      setError(errorText(err))
    }
  }
  return html`<form class="form" onSubmit=${submit} aria-label="Send a message to the agent">
    <label for="agent-message">Message</label>
    <textarea id="agent-message" rows="2" required value=${message} onInput=${(e: Event) => setMessage((e.target as HTMLTextAreaElement).value)}></textarea>
    ${error ? html`<${Notice} kind="error">${error}<//>` : note ? html`<p class="muted" role="status">${note}</p>` : null}
    <button type="submit">Send</button>
  </form>`
}

export function AgentPage({ id }: { id: string }) {
  const [agent, setAgent] = useState<Agent | undefined>()
  const [error, setError] = useState("")
  const load = async () => {
    try {
      setAgent(await api<Agent>("GET", `/api/v1/agents/${encodeURIComponent(id)}`))
    } catch (e) {
      setError(errorText(e))
    }
  }
  const reload = useThrottled(load)
  useEffect(() => {
    void load()
    return onAgentEvent((e) => (e.agentId === id ? reload() : undefined))
  }, [id])
  if (error && !agent) return html`<${Notice} kind="error">${error}<//>`
  if (!agent) return html`<p class="muted" aria-busy="true">Loading the agent…</p>`
  const local = agent.kind === "local"
  return html`<div class="stack" data-testid="agent-page" data-status=${agent.status}>
    <${Section} title=${`Agent ${agent.id}`}>
      <dl class="kv">
        <dt>Status</dt><dd><${Badge} status=${agent.status} /></dd>
        <dt>Role</dt><dd>${agent.role}</dd>
        <dt>Driver</dt><dd>${agent.driver}</dd>
        ${agent.taskIds[0] ? html`<dt>Task</dt><dd><a href=${`${BASE}/tasks/${agent.taskIds[0]}`}>${agent.taskIds[0]}</a></dd>` : null}
        ${local ? html`<dt>Working directory</dt><dd class="mono">${agent.cwd}</dd><dt>Restarts</dt><dd>${agent.restarts ?? 0}</dd><dt>Ready</dt><dd><${Time} iso=${agent.readyAt} /></dd>` : null}
      </dl>
      ${local && agent.status !== "stopped" ? html`<button onClick=${() => stopAgent(id).then(reload, (e: unknown) => setError(errorText(e)))}>Stop agent</button>` : null}
      ${error ? html`<${Notice} kind="error">${error}<//>` : null}
    <//>
    ${local && agent.driver === "pty" && agent.status !== "stopped" ? html`<${Section} title="Terminal"><${TerminalView} agentId=${id} /><//>` : null}
    ${local && agent.status !== "stopped" ? html`<${Section} title="Direct message"><${Send} id=${id} /><//>` : null}
    ${local ? html`<${Section} title=${agent.driver === "pty" ? "Log" : "Transcript"}><${Log} id=${id} /><//>` : null}
  </div>`
}
