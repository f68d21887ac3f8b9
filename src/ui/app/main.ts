import "@xterm/xterm/css/xterm.css"
import "./style.css"
import { render } from "preact"
import { useEffect } from "preact/hooks"
import { api, setCsrf, whenSignedOut } from "./api"
import { html } from "./html"
import { connectLive, disconnectLive } from "./live"
import { AgentPage } from "./pages/agent"
import { AgentsPage } from "./pages/agents"
import { OverviewPage } from "./pages/overview"
import { CodePanel, MemoryPanel, RoutingPanel, TokensPanel } from "./pages/panels"
import { SignIn } from "./pages/signin"
import { TaskPage } from "./pages/task"
import { TasksPage } from "./pages/tasks"
import { BASE, follow, navigate, useRoute } from "./router"
import { getState, setState, useAppState } from "./state"

// The dashboard's shell: sign-in state, navigation, the live connection
// indicator and the routed page.

const NAV: [string, string][] = [
  ["/", "Overview"],
  ["/tasks", "Tasks"],
  ["/agents", "Agents"],
  ["/memory", "Memory"],
  ["/routing", "Routing"],
  ["/tokens", "Tokens"],
  ["/code", "Code"],
]

function Page({ path }: { path: string }) {
  const task = /^\/tasks\/([^/]+)$/.exec(path)
  if (task) return html`<${TaskPage} id=${decodeURIComponent(task[1]!)} />`
  const agent = /^\/agents\/([^/]+)$/.exec(path)
  if (agent) return html`<${AgentPage} id=${decodeURIComponent(agent[1]!)} />`
  switch (path) {
    case "/":
      return html`<${OverviewPage} />`
    case "/tasks":
      return html`<${TasksPage} />`
    case "/agents":
      return html`<${AgentsPage} />`
    case "/memory":
      return html`<${MemoryPanel} />`
    case "/routing":
      return html`<${RoutingPanel} />`
    case "/tokens":
      return html`<${TokensPanel} />`
    case "/code":
      return html`<${CodePanel} />`
    default:
      return html`<p>No page here. <a href=${`${BASE}/`}>Go to the overview</a>.</p>`
  }
}

async function signOut() {
  try {
    await api("DELETE", "/api/v1/session")
  } catch {}
  signedOut("You signed out.")
}

function signedOut(message: string) {
  if (getState().auth === "signed-out") return
  disconnectLive()
  setCsrf("")
  setState({ auth: "signed-out", signInMessage: message, overview: undefined, activity: [] })
}

function Shell() {
  const path = useRoute()
  const { connection, keyId } = useAppState()
  const active = (to: string) => (to === "/" ? path === "/" : path === to || path.startsWith(`${to}/`))
  useEffect(() => {
    connectLive()
    return disconnectLive
  }, [])
  const title = NAV.find(([to]) => active(to))?.[1] ?? "cca"
  useEffect(() => void (document.title = `${title} · cca dashboard`), [title])
  return html`<div class="app" onClick=${follow}>
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <span class="brand">cca</span>
      <nav aria-label="Main">
        <ul>${NAV.map(([to, label]) => html`<li><a href=${`${BASE}${to === "/" ? "/" : to}`} aria-current=${active(to) ? "page" : undefined}>${label}</a></li>`)}</ul>
      </nav>
      <span class="conn" role="status" aria-live="polite" data-testid="connection" data-state=${connection}>${connection === "live" ? "● live" : connection === "connecting" ? "○ connecting" : "○ reconnecting"}</span>
      <button class="small" onClick=${signOut} title=${keyId ? `signed in with key ${keyId}` : undefined}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">
      <h1 class="page-title">${title}</h1>
      <${Page} path=${path} />
    </main>
  </div>`
}

function App() {
  const { auth } = useAppState()
  useEffect(() => {
    whenSignedOut(signedOut)
    api("GET", "/api/v1/session", undefined, { quiet401: true }).then(
      (s) => {
        setCsrf(s.csrf ?? "")
        setState({ auth: "signed-in", keyId: s.keyId ?? "", expiresAt: s.expiresAt ?? "" })
      },
      () => setState({ auth: "signed-out" }),
    )
  }, [])
  if (auth === "checking") return html`<p class="muted" aria-busy="true">Loading…</p>`
  if (auth === "signed-out") return html`<${SignIn} />`
  return html`<${Shell} />`
}

if (location.pathname === BASE) navigate("/")
render(html`<${App} />`, document.getElementById("app")!)
