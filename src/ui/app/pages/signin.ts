import { useState } from "preact/hooks"
import { api, errorText, setCsrf } from "../api"
import { html } from "../html"
import { Notice } from "../parts"
import { setState, useAppState } from "../state"

// Sign-in: the key goes in the body of one POST and is forgotten; the page
// keeps only the session cookie (HttpOnly, the page cannot read it) and the
// CSRF token.

export function SignIn() {
  const { signInMessage } = useAppState()
  const [key, setKey] = useState("")
  const [error, setError] = useState("")
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError("")
    try {
      const s = await api("POST", "/api/v1/session", { key }, { quiet401: true })
      setKey("")
      setCsrf(s.csrf)
      setState({ auth: "signed-in", keyId: s.keyId ?? "", expiresAt: s.expiresAt ?? "", signInMessage: "" })
    } catch (err) {
      setError(errorText(err))
    } finally {
      setBusy(false)
    }
  }
  return html`<main class="signin" id="main" tabindex="-1">
    <form class="card" onSubmit=${submit} aria-labelledby="signin-title">
      <h1 id="signin-title">cca dashboard</h1>
      ${signInMessage && !error ? html`<${Notice}>${signInMessage}<//>` : null}
      <label for="api-key">API key</label>
      <input id="api-key" name="key" type="password" autocomplete="off" spellcheck="false" required value=${key} onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)} aria-describedby="key-help" />
      <p id="key-help" class="muted">A key from <code>cca keys create</code>. It is traded for a session cookie and not kept by this page.</p>
      ${error ? html`<${Notice} kind="error">${error}<//>` : null}
      <button type="submit" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
    </form>
  </main>`
}
