import { html } from "../html"
import { Badge, fmt, Section, shortId, Time, usd } from "../parts"
import { BASE } from "../router"
import { useAppState } from "../state"

// The overview: everything here comes from the live stream (state.overview,
// state.activity); nothing is fetched or polled.

export function OverviewPage() {
  const { overview: o, activity } = useAppState()
  if (!o) return html`<p class="muted" aria-busy="true">Loading the overview…</p>`
  const t = o.tasks
  const tok = o.tokensToday
  const roles = Object.entries(o.roles).sort(([a], [b]) => a.localeCompare(b))
  return html`<div class="grid" data-testid="overview" data-ready="true">
    <${Section} title="Tasks">
      <dl class="stats">
        <div><dt>Queue</dt><dd data-testid="queue">${fmt(t.pending)}</dd></div>
        <div><dt>Running</dt><dd data-testid="running">${fmt(t.running)}</dd></div>
        <div><dt>Completed</dt><dd data-testid="completed">${fmt(t.completed)}</dd></div>
        <div><dt>Failed</dt><dd>${fmt(t.failed)}</dd></div>
        <div><dt>Cancelled</dt><dd>${fmt(t.cancelled)}</dd></div>
      </dl>
    <//>
    <${Section} title="Tokens and cost today">
      <dl class="stats">
        <div><dt>Input</dt><dd data-testid="tokens-in">${fmt(tok.inputTokens)}</dd></div>
        <div><dt>Output</dt><dd>${fmt(tok.outputTokens)}</dd></div>
        <div><dt>Cache read</dt><dd>${fmt(tok.cacheReadTokens)}</dd></div>
        <div><dt>Cache write</dt><dd>${fmt(tok.cacheCreationTokens)}</dd></div>
        <div><dt>Cost</dt><dd data-testid="cost">${usd(tok.costUsd)}</dd></div>
        <div><dt>Tasks finished</dt><dd>${fmt(tok.tasks)}</dd></div>
      </dl>
    <//>
    <${Section} title="Agents">
      <p>${fmt(o.agents.total)} agents: ${fmt(o.agents.idle)} idle, ${fmt(o.agents.busy)} busy, ${fmt(o.agents.unhealthy)} unhealthy. Pool ${o.pool.agents} of ${o.pool.max}.</p>
      ${roles.length === 0
        ? html`<p class="muted">No agents yet. <a href=${`${BASE}/agents`}>Spawn one</a>, or create a task and the pool starts one.</p>`
        : html`<div class="scroll"><table data-testid="roles">
            <caption class="sr-only">Agents by role and state</caption>
            <thead><tr><th scope="col">Role</th><th scope="col">Agents</th><th scope="col">Idle</th><th scope="col">Busy</th><th scope="col">Starting</th><th scope="col">Waiting</th><th scope="col">Unhealthy</th></tr></thead>
            <tbody>${roles.map(([role, c]) => html`<tr><th scope="row">${role}${c.degraded ? html` <${Badge} status="degraded" />` : null}</th><td>${c.total}</td><td>${c.idle}</td><td>${c.busy}</td><td>${c.starting}</td><td>${c.waiting}</td><td>${c.unhealthy}</td></tr>`)}</tbody>
          </table></div>`}
    <//>
    <${Section} title="Health">
      <p>Daemon <code>${o.daemon.id}</code> ${o.daemon.version}, started <${Time} iso=${o.daemon.startedAt} />: <${Badge} status=${o.health.status} />. Routing: ${o.router}.</p>
      <ul class="checks" data-testid="health">
        ${Object.entries(o.health.checks).map(([name, c]) => html`<li><span class="check-name">${name}</span> <${Badge} status=${c.state} /> ${c.detail ? html`<span class="muted">${c.detail}</span>` : null}</li>`)}
      </ul>
    <//>
    <${Section} title="Activity">
      ${activity.length === 0
        ? html`<p class="muted">No task events since this page opened.</p>`
        : html`<ol class="events" data-testid="activity" aria-live="polite" aria-relevant="additions">
            ${activity.slice(0, 20).map((e) => html`<li key=${e.id}><${Badge} status=${e.type} /> <a href=${`${BASE}/tasks/${e.taskId}`}>${shortId(e.taskId)}</a> <${Time} iso=${e.createdAt} /></li>`)}
          </ol>`}
    <//>
  </div>`
}
